import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { useBlas } from '../../src/backend/blas.ts';
import { attention, bmm, crossEntropy, gelu, layerNorm, linear } from '../../src/backend/ops.ts';
import { plainAttention } from '../../src/backend/attention.ts';
import { Rng } from '../../src/util/rng.ts';

/** Deterministic normal tensor (same values on every backend). */
function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

/** max |a − b| / max(1, max |b|): relative to the scale of the reference. */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync(), y = b.dataSync();
  expect(a.shape).toEqual(b.shape);
  let diff = 0, scale = 1e-6;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return diff / scale;
}

/** Value and gradients (w.r.t. every input) of Σ f(inputs)·r for a fixed random r. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number) {
  const out = f(...inputs);
  const r = randn(new Rng(seed), out.shape);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
  return { out, grads };
}

function expectSame(f: (...xs: tf.Tensor[]) => tf.Tensor, ref: (...xs: tf.Tensor[]) => tf.Tensor, shapes: number[][], tol = 1e-5) {
  tf.tidy(() => {
    const rng = new Rng(7);
    const inputs = shapes.map((s) => randn(rng, s));
    const got = valueAndGrads(f, inputs, 3);
    const want = valueAndGrads(ref, inputs, 3);
    expect(relErr(got.out, want.out)).toBeLessThan(tol);
    got.grads.forEach((g, i) => expect(relErr(g, want.grads[i]!), `grad ${i}`).toBeLessThan(tol));
  });
}

const plainGelu = (x: tf.Tensor) => {
  const c = Math.sqrt(2 / Math.PI);
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(tf.mul(c, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
};

/** wasm runs twice: products on the platform's BLAS (where found), and on XNNPACK with its rewrites (matmul.ts). */
const BACKENDS = ['cpu', 'wasm', 'wasm-xnnpack'] as const;
async function start(backend: (typeof BACKENDS)[number]) {
  await initBackend(backend === 'cpu' ? 'cpu' : 'wasm');
  if (backend !== 'cpu') useBlas(backend === 'wasm');
}

for (const backend of BACKENDS) {
  describe(`ops on ${backend}`, () => {
    beforeAll(() => start(backend));
    afterAll(() => {
      tf.disposeVariables();
      useBlas(true);
    });

    it('linear equals matMul, with and without bias', () => {
      expectSame((x, w) => linear(x as tf.Tensor2D, w as tf.Tensor2D), (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), [[37, 24], [24, 56]]);
      // in < out and in > out take different transposes in the weight gradient.
      expectSame((x, w) => linear(x as tf.Tensor2D, w as tf.Tensor2D), (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), [[37, 56], [56, 24]]);
      expectSame(
        (x, w, b) => linear(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
        (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b!),
        [[33, 16], [16, 40], [40]],
      );
    });

    it('bmm equals matMul for a·b and a·bᵀ, 3-D and 4-D', () => {
      expectSame((a, b) => bmm(a!, b!), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), [[6, 9, 5], [6, 5, 11]]);
      expectSame((a, b) => bmm(a!, b!, true), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true), [[6, 9, 5], [6, 11, 5]]);
      expectSame((a, b) => bmm(a!, b!, true), (a, b) => tf.matMul(a as tf.Tensor4D, b as tf.Tensor4D, false, true), [[2, 3, 8, 4], [2, 3, 8, 4]]);
      expectSame((a, b) => bmm(a!, b!), (a, b) => tf.matMul(a as tf.Tensor4D, b as tf.Tensor4D), [[2, 3, 8, 8], [2, 3, 8, 4]]);
    });

    it('gelu equals the tanh formula, value and gradient', () => {
      expectSame((x) => gelu(x!), (x) => plainGelu(x!), [[7, 50]]);
      tf.tidy(() => {
        // Far tails: σ form must not overflow where tanh saturates.
        const x = tf.tensor1d([-60, -12, -3, -1e-3, 0, 1e-3, 3, 12, 60]);
        expect(relErr(gelu(x), plainGelu(x))).toBeLessThan(1e-6);
        expect(relErr(tf.grad((t) => gelu(t))(x), tf.grad((t) => plainGelu(t))(x))).toBeLessThan(1e-5);
      });
    });

    it('leaves no tensors behind', () => {
      const rng = new Rng(1);
      const [x, w, b, q, k] = [randn(rng, [8, 4]), randn(rng, [4, 6]), randn(rng, [6]), randn(rng, [2, 5, 3]), randn(rng, [2, 5, 3])];
      const run = () => {
        const g = tf.grads((x, w, b, q, k) => tf.add(tf.sum(gelu(linear(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D))), tf.sum(bmm(q!, k!, true))))([x!, w!, b!, q!, k!]);
        tf.dispose(g);
      };
      run();
      const before = tf.memory().numTensors;
      run();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x!, w!, b!, q!, k!]);
    });
  });
}

const plainLayerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number) => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
};

for (const backend of BACKENDS) {
  describe(`fused ops on ${backend}`, () => {
    beforeAll(() => start(backend));
    afterAll(() => useBlas(true));

    it('layerNorm equals the moments formula', () => {
      expectSame((x, g, b) => layerNorm(x!, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5), (x, g, b) => plainLayerNorm(x!, g!, b!, 1e-5), [[3, 5, 24], [24], [24]]);
    });

    it('crossEntropy equals −logSoftmax at the target, value and gradient', () => {
      const targets = tf.tensor1d([0, 3, 9, 9, 1, 4, 2], 'int32');
      const plain = (x: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.logSoftmax(x as tf.Tensor2D), tf.oneHot(targets, 10)), -1));
      expectSame((x) => crossEntropy(x as tf.Tensor2D, targets), plain, [[7, 10]]);
      tf.tidy(() => {
        // Extreme logits: the target's probability underflows float32 but the loss must not.
        const x = tf.tensor2d([[0, 200, -300], [50, 50, 50]]);
        const t = tf.tensor1d([2, 1], 'int32');
        expect(Array.from(crossEntropy(x, t).dataSync())).toEqual([500, expect.closeTo(Math.log(3), 5)]);
      });
      targets.dispose();
    });

    it('attention equals the per-head composition', () => {
      const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([6, 6]), -1, 0)), -1e9)) as tf.Tensor2D;
      const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => attention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, mask, 0.3);
      const ref = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => plainAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, mask, 0.3);
      expectSame((q, k, v) => f(q!, k!, v!), (q, k, v) => ref(q!, k!, v!), [[2, 6, 3, 4], [2, 6, 3, 4], [2, 6, 3, 4]]);
      mask.dispose();
    });
  });
}
