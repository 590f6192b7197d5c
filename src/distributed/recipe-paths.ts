/**
 * The files a recipe names must travel with it: the worker gets a fresh copy of the
 * shipped working directory and nothing else. The recipe's path fields are found by what
 * they point at (a string naming an existing file or folder), so a path field added to the
 * schema later is checked too.
 */
import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { BonsaiError } from '../errors.ts';

/** Fields that name places but are not inputs: outputs, the tracking store, the ray section itself. */
const NOT_INPUTS = new Set(['run.out_dir', 'tracking.uri', 'ray']);

/**
 * Throws when a relative path in the recipe points at something that will not be shipped
 * (the job would fail on it); returns warnings for absolute paths outside the working
 * directory, which exist on the worker only if the nodes share that storage.
 */
export function checkRecipePaths(recipe: unknown, workingDir: string, shipped: readonly string[]): string[] {
  const files = new Set(shipped);
  const warnings: string[] = [];
  const missing: string[] = [];
  for (const { field, value } of strings(recipe, '')) {
    if (NOT_INPUTS.has(field) || [...NOT_INPUTS].some((f) => field.startsWith(`${f}.`))) continue;
    const abs = resolve(workingDir, value);
    const kind = kindOf(abs);
    if (!kind) continue; // not a path (or nothing there): the recipe check already judged it
    const rel = relative(workingDir, abs).split(sep).join('/');
    if (rel.startsWith('..') || isAbsolute(rel)) {
      warnings.push(`${field}: ${value} is outside the working directory, so it is not shipped; the job finds it only if the nodes have it at that path`);
      continue;
    }
    const shippedHere = kind === 'file' ? files.has(rel) : shipped.some((f) => f.startsWith(`${rel}/`));
    if (!shippedHere) missing.push(`${field}: ${value}`);
  }
  if (missing.length > 0) {
    throw new BonsaiError(`the recipe reads what would not be shipped, so the job would fail on it:\n  ${missing.join('\n  ')}`, {
      hint: 'runs/, mlruns/, the out_dir, node_modules and .gitignored files are left out: move the file, stop ignoring it, or use a path the nodes share',
    });
  }
  return warnings;
}

function kindOf(path: string): 'file' | 'dir' | undefined {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** Every string leaf with its dotted field name (`data.train.path`, `probes.0.data`). */
function* strings(value: unknown, field: string): Generator<{ field: string; value: string }> {
  if (typeof value === 'string') {
    if (value !== '' && field) yield { field, value };
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* strings(value[i], `${field}.${i}`);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* strings(v, field ? `${field}.${k}` : k);
  }
}
