import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { registeredWasmKernels } from '../../src/backend/wasm-kernels.ts';
import { Rng } from '../../src/util/rng.ts';

/** Runs `f` on cpu and on wasm with the same inputs and returns both results as arrays. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: number[][]; wasm: number[][] }> {
  const run = () => tf.tidy(() => [f()].flat().map((t) => Array.from(t.dataSync())));
  await initBackend('cpu');
  const cpu = run();
  await initBackend('wasm');
  const wasm = run();
  return { cpu, wasm };
}

function expectClose(a: number[][], b: number[][], tol = 1e-5) {
  expect(a.length).toBe(b.length);
  a.forEach((xs, i) => {
    expect(xs.length).toBe(b[i]!.length);
    const scale = Math.max(1, ...b[i]!.map(Math.abs));
    xs.forEach((x, j) => expect(Math.abs(x - b[i]![j]!) / scale).toBeLessThan(tol));
  });
}

const rng = new Rng(11);
const randn = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
const randint = (n: number, hi: number) => Int32Array.from({ length: n }, () => rng.nextUint32() % hi);

describe('wasm kernels equal cpu', () => {
  it('registers UnsortedSegmentSum and fallbacks for what wasm lacks', async () => {
    await initBackend('wasm');
    expect(registeredWasmKernels).toContain('UnsortedSegmentSum');
    expect(registeredWasmKernels).toContain('Einsum');
  });

  it('UnsortedSegmentSum (the gradient of gather), 1-D and 2-D ids, dropped ids', async () => {
    const x = randn([12, 5]);
    const ids = Int32Array.from([0, 3, 3, 1, 7, 0, 2, 2, 2, 6, -1, 9]); // -1 and 9 ≥ 8 are dropped
    const x3 = randn([3, 4, 6]);
    const ids2 = randint(12, 5);
    const { cpu, wasm } = await onBoth(() => [
      tf.unsortedSegmentSum(tf.tensor2d(x, [12, 5]), tf.tensor1d(ids, 'int32'), 8),
      tf.unsortedSegmentSum(tf.tensor1d(x.slice(0, 12)), tf.tensor1d(ids, 'int32'), 8),
      tf.unsortedSegmentSum(tf.tensor2d(x3, [12, 6]), tf.tensor1d(ids2, 'int32'), 5),
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(ids2, 'int32')), 3)))(tf.tensor2d(x.slice(0, 25), [5, 5])),
    ]);
    expectClose(wasm, cpu);
    // Rank-2 ids index x's first two axes (tfjs-cpu cannot run this form; compare with
    // the flattened one above).
    const ids2d = tf.tensor2d(ids2, [3, 4], 'int32');
    const got = tf.unsortedSegmentSum(tf.tensor3d(x3, [3, 4, 6]), ids2d as unknown as tf.Tensor1D, 5);
    expectClose([Array.from(got.dataSync())], [cpu[2]!]);
    tf.dispose([ids2d, got]);
  });

  it('Einsum through the cpu fallback', async () => {
    const a = randn([3, 4]), b = randn([4, 5]);
    const { cpu, wasm } = await onBoth(() => tf.einsum('ij,jk->ik', tf.tensor2d(a, [3, 4]), tf.tensor2d(b, [4, 5])));
    expectClose(wasm, cpu);
  });

  it('Transpose, every permutation of random shapes', async () => {
    const cases: { shape: number[]; perm: number[]; data: Float32Array }[] = [];
    for (let t = 0; t < 60; t++) {
      const rank = 1 + (t % 5);
      const shape = Array.from({ length: rank }, () => 1 + (rng.nextUint32() % 6));
      const perm = Array.from(tf.util.createShuffledIndices(rank));
      cases.push({ shape, perm, data: randn(shape) });
    }
    cases.push({ shape: [70, 45], perm: [1, 0], data: randn([70, 45]) }, { shape: [3, 40, 2, 33], perm: [1, 3, 0, 2], data: randn([3, 40, 2, 33]) });
    const ints = randint(6, 100);
    const { cpu, wasm } = await onBoth(() => [
      ...cases.map((c) => tf.transpose(tf.tensor(c.data, c.shape), c.perm)),
      tf.transpose(tf.tensor2d(ints, [2, 3], 'int32')),
    ]);
    wasm.forEach((w, i) => expect(w, `case ${i} ${JSON.stringify(cases[i]?.shape)} ${JSON.stringify(cases[i]?.perm)}`).toEqual(cpu[i])); // exact
  });

  it('GatherV2 on any axis, Sum over leading axes, OneHot in both dtypes', async () => {
    const x = randn([4, 5, 6]);
    const ids = Int32Array.from([3, 0, 0, 2]);
    const { cpu, wasm } = await onBoth(() => {
      const t = tf.tensor3d(x, [4, 5, 6]);
      const i = tf.tensor1d(ids, 'int32');
      return [
        tf.gather(t, i, 0), tf.gather(t, i, 1), tf.gather(t, tf.tensor2d(ids, [2, 2], 'int32'), 2),
        tf.sum(t, 0), tf.sum(t, [0, 1]), tf.sum(t, 0, true), tf.sum(t, [1, 2]), tf.sum(t, 1), tf.sum(t),
        tf.oneHot(i, 5), tf.oneHot(i, 5, 2, -1, 'float32'),
      ];
    });
    expectClose(wasm, cpu);
  });

  it('summing one tensor over different axes (tfjs caches XNNPACK operators by tensor id)', async () => {
    const x = randn([4, 5, 6]);
    const { cpu, wasm } = await onBoth(() => {
      const t = tf.tensor3d(x, [4, 5, 6]);
      return [tf.sum(t, 0), tf.sum(t, [0, 1]), tf.sum(t, 0), tf.matMul(tf.ones([1, 4]), tf.reshape(t, [4, 30]))];
    });
    expectClose(wasm, cpu);
  });

  it('Identity (tf.clone; every tensor a kernel saves for its gradient) shares memory instead of copying it', async () => {
    await initBackend('wasm');
    const x = tf.tensor2d(randn([3, 4]), [3, 4]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId); // one buffer, two references
    expect(tf.backend().refCount(x.dataId)).toBe(2);
    const before = Array.from(x.dataSync());
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual(before); // still alive through the clone
    y.dispose();
    // A variable's assign replaces its buffer, never writes into it: a clone keeps the old values.
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const old = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(old.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, old]);
    // Gradients through ops that save their inputs and outputs equal cpu's.
    const a = randn([5, 5]);
    const { cpu, wasm } = await onBoth(() => {
      const t = tf.tensor2d(a, [5, 5]);
      return tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.exp(u), tf.sigmoid(tf.matMul(u, u, false, true)))))(t);
    });
    expectClose(wasm, cpu);
  });
});
