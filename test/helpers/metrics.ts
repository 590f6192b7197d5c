import { readFileSync } from 'node:fs';
import { parseRecipe, type Recipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { writeTinyRecipe, type TinyOptions } from './recipes.ts';

/** A tracker that keeps every logged metric in memory, for assertions. */
export class MemoryTracker extends NullTracker {
  readonly metrics: Array<{ step: number; record: Record<string, number> }> = [];
  override logMetrics(step: number, record: Record<string, number>): void {
    this.metrics.push({ step, record: { ...record } });
  }
  /** Every value logged under `key`, in order. */
  values(key: string): number[] {
    return this.metrics.flatMap((m) => (key in m.record ? [m.record[key]!] : []));
  }
}

/** The tiny recipe with its `gradients` line replaced by `gradients` (YAML, a whole section). */
export function tinyRecipeWithGradients(dir: string, gradients: string, opts: TinyOptions = {}): Recipe {
  const file = writeTinyRecipe(dir, opts);
  const text = readFileSync(file, 'utf8').replace(/^gradients:.*$/m, gradients);
  return parseRecipe(text, file, { overrides: [] });
}
