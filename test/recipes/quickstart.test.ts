import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/recipe/index.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir } from '../helpers/recipes.ts';

describe('recipes/quickstart.yaml, run tiny', () => {
  it('trains a few steps on the shipped corpus, checkpoints and samples', async () => {
    const dir = tempDir();
    const recipe = loadRecipe(join(import.meta.dirname, '..', '..', 'recipes', 'quickstart.yaml'), {
      overrides: [
        'trainer.steps=3',
        'trainer.batch_size=2',
        'trainer.eval.batches=1',
        `run.out_dir=${join(dir, 'out')}`,
        `tracking.uri=${join(dir, 'mlruns')}`,
        'sample.max_new_tokens=5',
      ],
    });
    const s = await train(recipe);
    if (s.kind !== 'sft') throw new Error(`quickstart trains with sft, got ${s.kind}`);
    expect(s.step).toBe(3);
    expect(Number.isFinite(s.finalLoss)).toBe(true);
    expect(s.eval!.loss).toBeLessThan(Math.log(257) + 0.5); // near-uniform at most, after 3 steps
    expect(s.sample!.startsWith('Anne ')).toBe(true);
    expect(existsSync(join(s.checkpoint!, 'model.safetensors'))).toBe(true);
  });
});
