import { readFileSync, writeFileSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';

/** Directions in activation space at one hook (for ablate / steer), rows of width D. */
export interface ActivationDirections {
  format: 'bonsai-directions/1';
  kind: 'activation';
  hook: string;
  width: number;
  vectors: number[][]; // [k, D]
  /** How they were found and how well they separate (reported by `bonsai directions`). */
  stats?: Record<string, number | string>;
}

/** Directions in parameter space (for project_out / observe): one map of path → entries per direction. */
export interface GradientDirections {
  format: 'bonsai-directions/1';
  kind: 'gradient';
  vectors: Record<string, number[]>[];
  stats?: Record<string, number | string>;
}

export type DirectionsFile = ActivationDirections | GradientDirections;

/** Writes a directions file (JSON, so it diffs and reads anywhere). */
export function saveDirections(path: string, d: DirectionsFile): void {
  writeFileSync(path, `${JSON.stringify(d)}\n`);
}

/** Reads a directions file of the wanted kind; every defect names the file. */
export function loadDirections<K extends DirectionsFile['kind']>(path: string, kind: K): Extract<DirectionsFile, { kind: K }> {
  let d: DirectionsFile;
  try {
    d = JSON.parse(readFileSync(path, 'utf8')) as DirectionsFile;
  } catch (e) {
    throw new BonsaiError(`${path}: not a readable directions file (${(e as Error).message})`, { hint: 'write one with `bonsai directions`' });
  }
  if (d?.format !== 'bonsai-directions/1') throw new BonsaiError(`${path}: not a bonsai directions file (format is ${JSON.stringify(d?.format)})`);
  if (d.kind !== kind) throw new BonsaiError(`${path}: holds ${d.kind} directions, but ${kind} directions are needed here`);
  if (!Array.isArray(d.vectors) || d.vectors.length === 0) throw new BonsaiError(`${path}: has no vectors`);
  if (d.kind === 'activation') {
    d.vectors.forEach((v, i) => {
      if (!Array.isArray(v) || v.length !== d.width || !v.every(Number.isFinite)) {
        throw new BonsaiError(`${path}: vector ${i} must be ${d.width} finite numbers (the file's width)`);
      }
    });
  }
  return d as Extract<DirectionsFile, { kind: K }>;
}
