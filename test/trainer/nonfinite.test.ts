import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, createTrainStep, train } from '../../src/trainer/index.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';
import { randomBatch, tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('non-finite gradients', () => {
  it('skip the update and name the tensors that went bad', () => {
    const m = tinyModel(5);
    const opt = new AdamW({ lr: 0.01 });
    const wU = m.params.get('unembed.W_U')!;
    const before = m.valuesSync();
    tf.tidy(() => wU.assign(tf.mul(wU, NaN)));
    const r = createTrainStep({ model: m, optimizer: opt, transforms: [] })(randomBatch(1, 2, 8, tinyConfig.vocabSize));
    expect(r.nonFinite).toContain('unembed.W_U');
    expect(opt.t).toBe(0); // nothing applied
    expect(m.valuesSync().get('blocks.0.mlp.W_in')).toEqual(before.get('blocks.0.mlp.W_in'));
    opt.dispose();
    m.dispose();
  });

  it('stop the run after max_nonfinite_steps in a row, saying which tensors', async () => {
    const recipe = tinyRecipe(tempDir(), { steps: 20, overrides: ['trainer.optimizer.lr=1e30', 'gradients=[]', 'trainer.max_nonfinite_steps=2'] });
    const lines: string[] = [];
    await expect(train(recipe, { onLog: (l) => lines.push(l) })).rejects.toThrow(/2 step\(s\) in a row had NaN or infinite gradients \(.*blocks\./);
    expect(lines.some((l) => /skipped, non-finite gradients in/.test(l))).toBe(true);
  });
});
