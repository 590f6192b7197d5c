import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, type Example } from '../../src/data/index.ts';
import type { TaskRecord } from '../../src/data/tasks/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { loadRecipe, type Recipe } from '../../src/recipe/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';

export { accuracy, tokenProb } from '../../src/trainer/evals.ts';

/** What a task run may narrow or change: which arms run, and `--set` overrides for the arms under test. */
export interface TaskOptions {
  arms?: string[];
  sets?: string[];
}

/** Writes records as JSONL (creating the folder). */
export function writeJsonl(path: string, records: readonly TaskRecord[]): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** A shipped recipe for one seed, writing into a fresh temp dir, with no tracking. */
export function recipeFor(file: string, seed: number, extra: string[] = []): Recipe {
  const out = mkdtempSync(join(tmpdir(), 'bonsai-task-'));
  return loadRecipe(file, { overrides: [`run.seed=${seed}`, `run.out_dir=${out}`, 'tracking.uri=none', ...extra] });
}

/** Trains the recipe and returns the final model, loaded from its checkpoint: no hooks. */
export async function trainAndLoad(recipe: Recipe): Promise<CausalLM> {
  const r = await train(recipe);
  const ck = loadCheckpoint(r.checkpoint!);
  return HookedTransformer.fromValues(ck.config, ck.weights);
}

/** Examples of a JSONL file for the byte tokenizer. */
export function examples(path: string, seqLen: number): Example[] {
  return loadDataset({ format: 'jsonl', path }, createTokenizer('byte'), seqLen).examples;
}

/**
 * "mean ± std" over seeds (sample std), as percentages; with `seeds`, also the worst seed's
 * value (`worst` says which way is bad: the lowest for accuracies, the highest for costs).
 */
export function pct(xs: readonly number[], seeds?: readonly number[], worst: 'low' | 'high' = 'low'): string {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  const spread = `${(100 * m).toFixed(1)} ± ${(100 * sd).toFixed(1)}`;
  if (!seeds) return spread;
  const at = xs.reduce((w, x, i) => ((worst === 'low' ? x < xs[w]! : x > xs[w]!) ? i : w), 0);
  return `${spread} (worst ${(100 * xs[at]!).toFixed(1)}, seed ${seeds[at]})`;
}
