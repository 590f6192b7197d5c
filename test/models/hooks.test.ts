import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ActivationCache } from '../../src/models/index.ts';
import { ids2d, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('hooks: cache', () => {
  it('returns named activations with TransformerLens shapes, alive past tidy', () => {
    const m = tinyModel();
    let cache!: ActivationCache;
    tf.tidy(() => {
      cache = m.forward(ids2d([[1, 2, 3], [3, 2, 1]]), { cache: [/^blocks\.0\./, 'ln_final.hook_normalized'] }).cache;
    });
    expect(cache.get('blocks.0.hook_resid_pre').shape).toEqual([2, 3, 16]);
    expect(cache.get('blocks.0.attn.hook_q').shape).toEqual([2, 3, 2, 8]);
    expect(cache.get('blocks.0.attn.hook_pattern').shape).toEqual([2, 2, 3, 3]);
    expect(cache.get('blocks.0.mlp.hook_post').shape).toEqual([2, 3, 64]);
    expect(cache.get('ln_final.hook_normalized').isDisposed).toBe(false);
    expect(cache.has('blocks.1.hook_resid_pre')).toBe(false);
    // The attention pattern is causal and each row sums to one.
    const p = cache.get('blocks.0.attn.hook_pattern').arraySync() as number[][][][];
    expect(p[0]![0]![0]![1]).toBe(0);
    expect(p[0]![1]![2]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    cache.dispose();
    m.dispose();
  });

  it('a cached activation the forward also returns (forwardHidden: ln_final) outlives disposing the returned one', () => {
    const m = tinyModel();
    const before = tf.memory().numTensors;
    const ids = ids2d([[1, 2, 3]]);
    const { hidden, cache } = m.forwardHidden(ids, { cache: 'ln_final.hook_normalized' });
    const want = hidden.arraySync();
    hidden.dispose();
    expect(cache.get('ln_final.hook_normalized').arraySync()).toEqual(want);
    cache.dispose();
    ids.dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('resid_post of a block is resid_pre of the next', () => {
    const m = tinyModel();
    const { logits, cache } = m.forward(ids2d([[4, 5]]), { cache: ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_pre'] });
    expect(cache.get('blocks.1.hook_resid_pre').arraySync()).toEqual(cache.get('blocks.0.hook_resid_post').arraySync());
    logits.dispose();
    cache.dispose();
    m.dispose();
  });

  it('caching the attention pattern (the explicit path) gives the same logits as the fused op', () => {
    const m = tinyModel();
    const x = ids2d([[1, 2, 3, 4], [4, 3, 2, 1]]);
    const fused = m.forward(x).logits.dataSync();
    const r = m.forward(x, { cache: /hook_pattern/ });
    const explicit = r.logits.dataSync();
    fused.forEach((v, i) => expect(explicit[i]).toBeCloseTo(v, 5));
    r.cache.dispose();
    m.dispose();
  });

  it('an unknown hook name is an error listing the valid ones', () => {
    const m = tinyModel();
    expect(() => m.forward(ids2d([[1]]), { cache: 'blocks.0.hook_resid' })).toThrow(/unknown hook point "blocks.0.hook_resid"; valid hook points: hook_embed/);
    m.dispose();
  });
});

describe('hooks: edit', () => {
  it('changes the output, is scoped to one call, and the cache sees the edit', () => {
    const m = tinyModel();
    const x = ids2d([[1, 2, 3]]);
    const plain = m.forward(x).logits.arraySync();
    const zeroMlp = { at: /mlp\.hook_post$/, fn: (a: tf.Tensor) => tf.zerosLike(a) };
    const edited = m.forward(x, { hooks: [zeroMlp], cache: 'blocks.0.mlp.hook_post' });
    expect(edited.logits.arraySync()).not.toEqual(plain);
    expect(tf.max(tf.abs(edited.cache.get('blocks.0.mlp.hook_post'))).dataSync()[0]).toBe(0);
    expect(m.forward(x).logits.arraySync()).toEqual(plain);
    edited.cache.dispose();
    m.dispose();
  });

  it('is differentiable under training: gradients flow through the edit', () => {
    const m = tinyModel();
    const x = ids2d([[1, 2, 3]]);
    const scale = tf.variable(tf.scalar(1));
    const { grads } = tf.variableGrads(() => {
      const { logits } = m.forward(x, { hooks: [{ at: 'blocks.1.hook_resid_mid', fn: (a) => tf.mul(a, scale) }] });
      return tf.sum(tf.square(logits)) as tf.Scalar;
    }, [scale, m.params.get('blocks.0.mlp.W_in')!]);
    expect(Math.abs(grads[scale.name]!.dataSync()[0]!)).toBeGreaterThan(0);
    // Zeroing the stream after block 0 cuts block 0's MLP off from the loss entirely.
    const cut = tf.variableGrads(() => {
      const { logits } = m.forward(x, { hooks: [{ at: 'blocks.0.hook_resid_post', fn: (a) => tf.mul(a, 0) }] });
      return tf.sum(tf.square(logits)) as tf.Scalar;
    }, [m.params.get('blocks.0.mlp.W_in')!]);
    expect(tf.max(tf.abs(Object.values(cut.grads)[0]!)).dataSync()[0]).toBe(0);
    m.dispose();
  });
});
