/**
 * K-FAC factors on disk: one safetensors file (float64 A and G per target, named
 * `<path>.A` / `<path>.G`) whose metadata carries the model's fingerprint, the Fisher kind
 * and the token count. Trying several ρ then costs one eigen-decomposition, not another
 * curvature pass; factors of another model are refused when used (checkFactorsFit).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { readSafetensors, safetensorsBuffer, type SafetensorsInput } from '../models/safetensors.ts';
import type { FisherKind, KfacFactors } from './kfac-factors.ts';

const FORMAT = 'bonsai-kfac-factors-1';

/** Writes the factors to `path` atomically (temp file, then rename). */
export function saveKfacFactors(path: string, f: KfacFactors): void {
  const tensors: Record<string, SafetensorsInput> = {};
  for (const x of f.factors.values()) {
    tensors[`${x.path}.A`] = { dtype: 'F64', shape: [x.inDim, x.inDim], data: x.A };
    tensors[`${x.path}.G`] = { dtype: 'F64', shape: [x.outDim, x.outDim], data: x.G };
  }
  const meta = { format: FORMAT, fingerprint: f.fingerprint, fisher: f.fisher, tokens: String(f.tokens), targets: JSON.stringify([...f.factors.keys()]) };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, safetensorsBuffer(tensors, meta));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Reads factors written by saveKfacFactors; anything else is an error naming the file. */
export function loadKfacFactors(path: string): KfacFactors {
  const file = readSafetensors(path);
  const m = file.metadata;
  const bad = (why: string) => new BonsaiError(`not a K-FAC factors file: ${why}`, { where: path, hint: 'collect the factors again (drop edit.factors or point it at a new path)' });
  if (m.format !== FORMAT) throw bad(`format is ${JSON.stringify(m.format)}, expected ${FORMAT}`);
  if (!m.fingerprint || (m.fisher !== 'sampled' && m.fisher !== 'empirical')) throw bad('its metadata lacks the fingerprint or the Fisher kind');
  let targets: string[];
  try {
    targets = JSON.parse(m.targets ?? '') as string[];
  } catch {
    throw bad('its metadata lacks the target list');
  }
  const factors: KfacFactors['factors'] = new Map();
  for (const t of targets) {
    const A = file.tensors[`${t}.A`];
    const G = file.tensors[`${t}.G`];
    if (!A || !G || !(A.data instanceof Float64Array) || !(G.data instanceof Float64Array)) throw bad(`${t} has no float64 A and G`);
    factors.set(t, { path: t, inDim: A.shape[0]!, outDim: G.shape[0]!, A: A.data, G: G.data });
  }
  return { fingerprint: m.fingerprint, fisher: m.fisher as FisherKind, tokens: Number(m.tokens), factors };
}
