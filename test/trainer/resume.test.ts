import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { train } from '../../src/trainer/train.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';

/** Every logged value of a metric by step, over all runs in an MLflow store. */
function curve(mlruns: string, key: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const exp of readdirSync(mlruns)) {
    if (!/^\d+$/.test(exp)) continue;
    for (const run of readdirSync(join(mlruns, exp))) {
      try {
        const lines = readFileSync(join(mlruns, exp, run, 'metrics', key), 'utf8').trim().split('\n');
        for (const l of lines) {
          const [, value, step] = l.split(' ');
          out.set(Number(step), Number(value));
        }
      } catch {
        /* not a run folder, or no such metric */
      }
    }
  }
  return out;
}

describe('resume', () => {
  it('N steps, stop, resume N more ends at the same loss as 2N steps straight (cpu)', async () => {
    const straightDir = tempDir();
    const straight = await train(tinyRecipe(straightDir, { steps: 8 }));

    const splitDir = tempDir();
    const recipe = tinyRecipe(splitDir, { steps: 8 });
    const first = await train(recipe, { stopAfter: 4 });
    expect(first.interrupted).toBe(true);
    expect(first.step).toBe(4);
    const second = await train(recipe, { resume: true });
    expect(second.step).toBe(8);

    expect(second.finalLoss).toBeCloseTo(straight.finalLoss, 5);
    expect(second.eval!.loss).toBeCloseTo(straight.eval!.loss, 5);
    // The whole curve, not only its end: steps 5..8 of the resumed run match.
    const a = curve(join(straightDir, 'mlruns'), 'train/loss');
    const b = curve(join(splitDir, 'mlruns'), 'train/loss');
    expect([...b.keys()].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [step, loss] of a) expect(b.get(step)).toBeCloseTo(loss, 5);
  });

  it('refuses to start over a run that has checkpoints, and to resume with nothing to resume', async () => {
    const dir = tempDir();
    const recipe = tinyRecipe(dir, { steps: 2 });
    await expect(train(recipe, { resume: true })).rejects.toThrow(/--resume: no checkpoint in/);
    await train(recipe);
    await expect(train(recipe)).rejects.toThrow(/already holds checkpoints/);
  });

  it('refuses a checkpoint from another model config, naming both', async () => {
    const dir = tempDir();
    await train(tinyRecipe(dir, { steps: 2 }));
    const other = tinyRecipe(dir, { steps: 4, overrides: ['model.init.config.d_model=32'] });
    await expect(train(other, { resume: true })).rejects.toThrow(/is for another model: it has .*d_model 16.*the recipe asks for .*d_model 32/);
  });
});
