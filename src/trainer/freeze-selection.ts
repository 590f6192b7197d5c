/**
 * The run's freeze selection, kept beside its checkpoints. Attribution scores depend on the
 * weights they are computed on, so recomputing them on --resume (from the resumed weights)
 * would pick other entries than the run started with: entries frozen so far could be
 * released and others frozen mid-run. The first selection is therefore saved once, and a
 * resume with the same `freeze` section reads it back instead of recomputing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { Selection } from '../gradients/select.ts';
import { readSafetensors, safetensorsBuffer } from '../models/safetensors.ts';
import type { Recipe } from '../recipe/schema.ts';

const FILE = 'freeze-selection.safetensors';

/** A stable hash of the recipe's freeze section: a stored selection only stands for the same section. */
export function freezeSpecHash(recipe: Recipe): string {
  return createHash('sha256').update(JSON.stringify(recipe.freeze)).digest('hex');
}

/** Writes the selection (one U8 flag tensor per parameter path) atomically into out_dir. */
export function saveFreezeSelection(outDir: string, sel: Selection, specHash: string, meta: Record<string, string> = {}): string {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, FILE);
  const tensors = Object.fromEntries([...sel].map(([p, flags]) => [p, { dtype: 'U8' as const, shape: [flags.length], data: flags }]));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, safetensorsBuffer(tensors, { ...meta, 'bonsai.freeze_spec': specHash }));
  renameSync(tmp, path);
  return path;
}

/**
 * The selection a run saved, when there is one for this freeze section; `changed` when the
 * file was written for another freeze section (the caller recomputes and says so).
 */
export function loadFreezeSelection(outDir: string, specHash: string): { sel: Selection; meta: Record<string, string> } | { changed: true } | undefined {
  const path = join(outDir, FILE);
  if (!existsSync(path)) return undefined;
  const file = readSafetensors(path);
  if (file.metadata?.['bonsai.freeze_spec'] !== specHash) return { changed: true };
  const sel: Selection = new Map();
  for (const [p, t] of Object.entries(file.tensors)) {
    if (t.dtype !== 'U8') throw new BonsaiError(`${path}: tensor ${p} is ${t.dtype}, expected U8 flags`);
    sel.set(p, t.data as Uint8Array);
  }
  return { sel, meta: file.metadata ?? {} };
}
