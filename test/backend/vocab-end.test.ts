import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { crossEntropy } from '../../src/backend/ops.ts';
import { frozenHeadLogits, frozenHeadNll, isFrozenHead, type HeadWeights } from '../../src/backend/vocab-end.ts';
import { familyConfigFromRecipe } from '../../src/models/families/config.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose, lossAndGradsOf, withNonzeroAdapters } from '../helpers/compare.ts';
import { randomBatch, tinyFamilyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
afterAll(useCpu);

const [N, D, V] = [11, 6, 29];
const rand = (seed: number, n: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
};
const data = { h: rand(1, N * D), W: rand(2, V * D), b: rand(3, V), dy: rand(4, N), targets: Int32Array.from({ length: N }, (_, i) => (i * 7) % V) };

/** The head both ways: tied [V, D] (h·Wᵀ) and untied [D, V] with a bias (h·W + b), as frozen variables. */
function heads(): { tied: HeadWeights; untied: HeadWeights; dispose(): void } {
  const Wt = tf.variable(tf.tensor2d(data.W, [V, D]), false);
  const Wu = tf.variable(tf.transpose(Wt), false);
  const b = tf.variable(tf.tensor1d(data.b), false);
  return { tied: { weight: Wt, vocabRows: true }, untied: { weight: Wu as tf.Tensor2D, vocabRows: false, bias: b }, dispose: () => tf.dispose([Wt, Wu, b]) };
}

/** Σ dy ⊙ nll and its gradient for h, read back. */
function lossAndGrad(nll: (h: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor1D) {
  return tf.tidy(() => {
    const h = tf.tensor2d(data.h, [N, D]);
    const t = tf.tensor1d(data.targets, 'int32');
    const dy = tf.tensor1d(data.dy);
    const f = (x: tf.Tensor) => tf.sum(tf.mul(nll(x as tf.Tensor2D, t), dy));
    const { value, grad } = tf.valueAndGrad(f)(h);
    return { loss: value.dataSync()[0]!, nll: Array.from(nll(h, t).dataSync()), dh: Array.from(grad.dataSync()) };
  });
}

describe('the vocabulary end of a frozen head', () => {
  it('gives the fused cross-entropy’s loss and hidden-state gradient, tied and untied, in any chunking', () => {
    const hs = heads();
    for (const [name, head] of [['tied', hs.tied], ['untied', hs.untied]] as const) {
      expect(isFrozenHead(head)).toBe(true);
      const logits = (h: tf.Tensor2D) => (head.vocabRows ? tf.matMul(h, head.weight, false, true) : tf.add(tf.matMul(h, head.weight), head.bias!)) as tf.Tensor2D;
      const want = lossAndGrad((h, t) => crossEntropy(logits(h), t));
      for (const chunk of [1, 4, N, 100]) {
        const got = lossAndGrad((h, t) => frozenHeadNll(head, h, t, chunk));
        expectClose(got.nll, want.nll, 1e-6, `${name} nll, chunk ${chunk}`);
        expectClose(got.dh, want.dh, 1e-6, `${name} dh, chunk ${chunk}`);
      }
      const lg = tf.tidy(() => Array.from(tf.grads((h: tf.Tensor) => tf.sum(tf.mul(frozenHeadLogits(head, h as tf.Tensor2D), tf.range(0, V))))([tf.tensor2d(data.h, [N, D])])[0]!.dataSync()));
      const lw = tf.tidy(() => Array.from(tf.grads((h: tf.Tensor) => tf.sum(tf.mul(logits(h as tf.Tensor2D), tf.range(0, V))))([tf.tensor2d(data.h, [N, D])])[0]!.dataSync()));
      expectClose(lg, lw, 1e-6, `${name} frozenHeadLogits' gradient`);
    }
    hs.dispose();
  });

  it('runs two head-sized products a chunk, both in the forward pass, and none for the head’s gradient; keeps one [N, D] tensor', async () => {
    const hs = heads();
    const h = tf.variable(tf.tensor2d(data.h, [N, D]));
    const t = tf.tensor1d(data.targets, 'int32');
    const before = tf.memory().numTensors;
    const p = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(frozenHeadNll(hs.tied, h, t, 4)) as tf.Scalar, [h]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    expect(tf.memory().numTensors).toBe(before);
    const products = p.kernels.filter((k) => /MatMul/.test(k.name)).map((k) => k.outputShapes[0]!.join('×'));
    expect(products.length).toBe(2 * Math.ceil(N / 4)); // logits and (p − onehot)·W per chunk, nothing more
    expect(products.filter((s) => s === `${V}×${D}` || s === `${D}×${V}`)).toEqual([]);
    tf.dispose([h, t]);
    hs.dispose();
  });

  it('on wasm: equals tfjs-cpu and never transposes the [V, D] head', async () => {
    const cpu = (() => {
      const hs = heads();
      const r = lossAndGrad((h, t) => frozenHeadNll(hs.tied, h, t, 4));
      hs.dispose();
      return r;
    })();
    await initBackend('wasm');
    try {
      const hs = heads();
      const wasm = lossAndGrad((h, t) => frozenHeadNll(hs.tied, h, t, 4));
      expectClose(wasm.nll, cpu.nll, 1e-5, 'nll');
      expectClose(wasm.dh, cpu.dh, 1e-5, 'dh');
      const h = tf.variable(tf.tensor2d(data.h, [N, D]));
      const t = tf.tensor1d(data.targets, 'int32');
      const p = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(frozenHeadNll(hs.tied, h, t, 4)) as tf.Scalar, [h]);
        tf.dispose([value, ...Object.values(grads)]);
      });
      const transposed = p.kernels.filter((k) => k.name === 'Transpose').map((k) => k.inputShapes[0]!.join('×'));
      expect(transposed).not.toContain(`${V}×${D}`);
      tf.dispose([h, t]);
      hs.dispose();
    } finally {
      await useCpu();
    }
  });
});

describe('a LoRA model’s loss runs through the vocabulary end', () => {
  const tied = familyConfigFromRecipe({
    family: 'llama', vocab_size: 23, d_model: 16, n_layers: 2, n_heads: 4, n_kv_heads: 2, d_mlp: 24, n_ctx: 8, tied_embeddings: true, layer_norm_eps: 1e-5, init_std: 0.02,
  });
  it('with the loss and adapter gradients of differentiating through the head (tied embedding, chunked)', () => {
    const model = tinyFamilyModel(3, tied);
    const adapters = withNonzeroAdapters(model, ['blocks.0.attn.W_Q', 'blocks.1.mlp.W_out']);
    const batch = randomBatch(2, 2, 8, tied.vocabSize);
    const run = () => lossAndGradsOf(model, () => lmLoss(model, batch, { ceChunk: 5 }));
    const fast = run();
    const before = tf.memory().numTensors;
    run();
    expect(tf.memory().numTensors).toBe(before);
    Object.defineProperty(model, 'outputHead', { value: () => undefined, configurable: true }); // the generic chunked path
    const generic = run();
    delete (model as { outputHead?: unknown }).outputHead;
    expect(fast.loss).toBeCloseTo(generic.loss, 5);
    for (const k of Object.keys(generic.grads)) expectClose(fast.grads[k]!, generic.grads[k]!, 1e-4, k);
    model.dispose();
    adapters.dispose();
  });
});
