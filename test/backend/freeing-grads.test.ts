import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { freeingVariableGrads } from '../../src/backend/freeing-grads.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { familyConfigFromRecipe } from '../../src/models/families/config.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { randomBatch, tinyFamilyModel, tinyLlamaConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const deep = familyConfigFromRecipe({
  family: 'llama', vocab_size: 23, d_model: 32, n_layers: 6, n_heads: 4, n_kv_heads: 2, d_mlp: 64, n_ctx: 16, tied_embeddings: true, layer_norm_eps: 1e-5, init_std: 0.02,
});

/** Loss and gradients (by variable name, as JS arrays) from `grads`, freeing what it returns. */
function run(grads: typeof tf.variableGrads, model: CausalLM, seed: number, recompute = false) {
  const batch = randomBatch(seed, 2, 8, model.config.vocabSize);
  const { value, grads: g } = grads(() => lmLoss(model, batch, { ceChunk: 5, forward: { recompute } }), [...model.params.values()]);
  const out = { loss: value.dataSync()[0]!, grads: Object.fromEntries(Object.entries(g).map(([k, t]) => [k, Array.from(t.dataSync())])) };
  tf.dispose([value, ...Object.values(g)]);
  return out;
}

describe('freeingVariableGrads', () => {
  for (const [name, make] of [
    ['GPT-2', () => tinyModel(3)],
    ['Llama (GQA, SwiGLU, RoPE)', () => tinyFamilyModel(4, tinyLlamaConfig)],
  ] as const) {
    it(`equals tf.variableGrads bit for bit on ${name}, with and without recomputation, and leaks nothing`, () => {
      const m = make();
      for (const recompute of [false, true]) {
        const want = run(tf.variableGrads, m, 7, recompute);
        const before = tf.memory().numTensors;
        const got = run(freeingVariableGrads, m, 7, recompute);
        expect(tf.memory().numTensors).toBe(before);
        expect(got.loss).toBe(want.loss);
        expect(Object.keys(got.grads).sort()).toEqual(Object.keys(want.grads).sort());
        for (const k of Object.keys(want.grads)) expect(got.grads[k], k).toEqual(want.grads[k]);
      }
      m.dispose();
    });
  }

  it('holds less at its peak than tfjs’s backward pass (6 blocks)', async () => {
    const m = tinyFamilyModel(5, deep);
    const batch = randomBatch(2, 4, 16, deep.vocabSize);
    const vars = [...m.params.values()];
    const peak = async (grads: typeof tf.variableGrads) => {
      const p = await tf.profile(() => {
        const { value, grads: g } = grads(() => lmLoss(m, batch), vars);
        tf.dispose([value, ...Object.values(g)]);
      });
      return p.peakBytes;
    };
    const tfjs = await peak(tf.variableGrads);
    const freeing = await peak(freeingVariableGrads);
    expect(freeing).toBeLessThan(0.75 * tfjs);
    m.dispose();
  });

  it('frees the tape when the loss throws, and defers to tfjs inside another gradient', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const before = tf.memory().numTensors;
    expect(() => freeingVariableGrads(() => {
      tf.sum(tf.mul(v, v));
      throw new Error('boom');
    }, [v])).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    const nested = tf.grads((x: tf.Tensor) => {
      const { value, grads } = freeingVariableGrads(() => tf.sum(tf.mul(v, x)) as tf.Scalar, [v]);
      tf.dispose(Object.values(grads));
      return value;
    })([tf.tensor1d([1, 1, 1])]);
    expect(Array.from(nested[0]!.dataSync())).toEqual([1, 2, 3]);
    tf.dispose(nested);
    v.dispose();
  });

  it('refuses a non-scalar loss and a loss that no variable reaches, as tf.variableGrads does', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const before = tf.memory().numTensors;
    expect(() => freeingVariableGrads(() => tf.mul(v, 2) as unknown as tf.Scalar, [v])).toThrow(/must return a scalar/);
    expect(() => freeingVariableGrads(() => tf.scalar(1), [v])).toThrow(/Cannot find a connection/);
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});
