import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HookedTransformer, hookNames, paramSpecs } from '../../src/models/index.ts';
import { ids2d, tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('HookedTransformer', () => {
  it('gives logits [B, T, V] and names parameters by path', () => {
    const m = tinyModel();
    const { logits, cache } = m.forward(ids2d([[1, 2, 3], [4, 5, 6]]));
    expect(logits.shape).toEqual([2, 3, tinyConfig.vocabSize]);
    expect([...m.params.keys()]).toEqual(paramSpecs(tinyConfig).map((s) => s.path));
    expect(m.params.get('blocks.1.attn.W_Q')!.shape).toEqual([16, 16]);
    expect(m.params.get('blocks.0.mlp.W_in')!.shape).toEqual([16, 64]);
    tf.dispose([logits]);
    cache.dispose();
    m.dispose();
  });

  it('is causal: a later token does not change earlier logits', () => {
    const m = tinyModel();
    const a = m.forward(ids2d([[1, 2, 3, 4]])).logits;
    const b = m.forward(ids2d([[1, 2, 3, 9]])).logits;
    const prefixA = a.slice([0, 0, 0], [1, 3, -1]).arraySync();
    const prefixB = b.slice([0, 0, 0], [1, 3, -1]).arraySync();
    expect(prefixB).toEqual(prefixA);
    expect(a.slice([0, 3, 0], [1, 1, -1]).arraySync()).not.toEqual(b.slice([0, 3, 0], [1, 1, -1]).arraySync());
    m.dispose();
  });

  it('the same seed gives the same weights and fingerprint; another seed does not', () => {
    const [a, b, c] = [tinyModel(7), tinyModel(7), tinyModel(8)];
    expect(a.fingerprint()).toBe(b.fingerprint());
    expect(a.fingerprint()).not.toBe(c.fingerprint());
    [a, b, c].forEach((m) => m.dispose());
  });

  it('refuses sequences longer than the context', () => {
    const m = tinyModel();
    expect(() => m.forward(ids2d([Array(9).fill(1)]))).toThrow(/exceeds the model's context of 8/);
    m.dispose();
  });

  it('refuses an invalid config with every problem named', () => {
    expect(() => HookedTransformer.create({ ...tinyConfig, dModel: 15, nLayers: 0 }, 0)).toThrow(/nLayers must be a positive integer.*divisible by nHeads/);
  });

  it('leaks no tensors across forward passes', () => {
    const m = tinyModel();
    const x = ids2d([[1, 2, 3]]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const { logits, cache } = m.forward(x, { cache: /resid_post/ });
      logits.dispose();
      cache.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('lists every hook point', () => {
    const names = hookNames(tinyConfig);
    expect(names).toContain('blocks.1.attn.hook_pattern');
    expect(names).toContain('ln_final.hook_normalized');
    expect(names).toHaveLength(2 + 12 * 2 + 1);
  });
});
