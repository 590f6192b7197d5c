import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { orthonormalRows, symmetricEigen, topKBasis, topKBasisParts } from '../../src/gradients/linalg.ts';
import { pcgradCombine, pcgradTransform } from '../../src/gradients/pcgrad.ts';
import { observeTransform, projectOutTransform } from '../../src/gradients/project.ts';
import { applyTransforms } from '../../src/gradients/transform.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const ctx = (step: number) => ({ step, params: new Map() });
const arr = (t: tf.Tensor) => Array.from(t.dataSync());

describe('linear algebra', () => {
  it('eigen-decomposes [[2,1],[1,2]] into 3 and 1', () => {
    const { values, vectors } = symmetricEigen([[2, 1], [1, 2]]);
    expect(values).toEqual([expect.closeTo(3, 9), expect.closeTo(1, 9)]);
    expect(Math.abs(vectors[0]![0]!)).toBeCloseTo(Math.SQRT1_2, 9);
  });

  it('Gram–Schmidt: orthonormal rows, a dependent row dropped', () => {
    const q = orthonormalRows([[3, 4, 0], [6, 8, 0], [1, 0, 1]]);
    expect(q).toHaveLength(2);
    expect(Array.from(q[0]!)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6), 0]);
    expect(q[0]!.reduce((s, v, i) => s + v * q[1]![i]!, 0)).toBeCloseTo(0, 6);
  });

  it('topKBasis keeps the dominant direction of the samples', () => {
    const X = tf.tensor2d([[2, 0, 0], [3, 0, 0], [0, 0.1, 0]]);
    const { basis, energy } = topKBasis(X, 1);
    expect(arr(basis).map(Math.abs)).toEqual([expect.closeTo(1, 5), expect.closeTo(0, 5), 0]);
    expect(energy[0]).toBeCloseTo(13 / 13.01, 5);
    tf.dispose([X, basis]);
  });

  it('topKBasisParts gives topKBasis of the concatenated samples, split the same way', () => {
    const X = tf.randomNormal([5, 7], 0, 1, 'float32', 11) as tf.Tensor2D;
    const parts = [tf.slice(X, [0, 0], [5, 3]), tf.slice(X, [0, 3], [5, 4])] as tf.Tensor2D[];
    const whole = topKBasis(X, 3);
    const split = topKBasisParts(parts, 3);
    expect(split.energy).toEqual(whole.energy.map((e) => expect.closeTo(e, 5)));
    const joined = tf.concat(split.bases, 1);
    // Eigenvectors are defined up to sign: compare |rows|.
    expect(arr(joined).map(Math.abs)).toEqual(arr(whole.basis).map((v) => expect.closeTo(Math.abs(v), 4)));
    tf.dispose([X, ...parts, whole.basis, ...split.bases, joined]);
  });
});

describe('project_out', () => {
  it('leaves nothing along any sample direction, across tensors of several shapes', () => {
    const shapes: Record<string, number[]> = { w: [3, 4], b: [4], e: [2, 2, 2] };
    const rand = (seed: number) => Object.fromEntries(Object.entries(shapes).map(([k, sh], i) => [k, tf.randomNormal(sh, 0, 1, 'float32', seed * 10 + i)]));
    const vectors = [rand(1), rand(2), rand(3)];
    const t = projectOutTransform({ source: { kind: 'fixed', vectors }, topK: 3 });
    const g = rand(4);
    const out = applyTransforms([t], { ...g }, ctx(1));
    for (const v of vectors) {
      const dot = Object.keys(shapes).reduce((sum, k) => sum + tf.tidy(() => tf.sum(tf.mul(out.grads[k]!, v[k]!)).dataSync()[0]!), 0);
      expect(dot).toBeCloseTo(0, 4);
    }
    for (const k of Object.keys(shapes)) expect(out.grads[k]!.shape).toEqual(shapes[k]);
    expect(out.stats['gradients/project_out/dims']).toBe(3);
    t.dispose!();
    tf.dispose([...vectors.flatMap((v) => Object.values(v)), ...Object.values(out.grads)]);
  });

  it('removes the x component of (3, 4) across two tensors: (0, 4), cos 0.6, removed 0.2', () => {
    const u = { a: tf.tensor1d([1]), b: tf.tensor1d([0]) };
    const t = projectOutTransform({ source: { kind: 'fixed', vectors: [u] }, topK: 4 });
    const out = applyTransforms([t], { a: tf.tensor1d([3]), b: tf.tensor1d([4]) }, ctx(1));
    expect(arr(out.grads.a!)).toEqual([expect.closeTo(0, 6)]);
    expect(arr(out.grads.b!)).toEqual([4]);
    expect(out.stats['gradients/project_out/cos']).toBeCloseTo(0.6, 6);
    expect(out.stats['gradients/project_out/removed']).toBeCloseTo(0.2, 6);
    t.dispose!();
    tf.dispose([...Object.values(u), ...Object.values(out.grads)]);
  });

  it('on a step whose stats will not be logged, projects the same and skips the norms', () => {
    const u = { a: tf.tensor1d([1]), b: tf.tensor1d([0]) };
    const t = projectOutTransform({ source: { kind: 'fixed', vectors: [u] }, topK: 4 });
    const out = applyTransforms([t], { a: tf.tensor1d([3]), b: tf.tensor1d([4]) }, { ...ctx(1), stats: false });
    expect(arr(out.grads.a!)).toEqual([expect.closeTo(0, 6)]);
    expect(arr(out.grads.b!)).toEqual([4]);
    expect(out.stats).toEqual({ 'gradients/project_out/dims': 1, 'gradients/project_out/refreshed': 1 });
    t.dispose!();
    tf.dispose([...Object.values(u), ...Object.values(out.grads)]);
  });

  it('recomputes U from sample gradients every K steps', () => {
    let calls = 0;
    const sample = () => (calls++, [{ a: tf.tensor1d([0, 2]) }]);
    const t = projectOutTransform({ source: { kind: 'gradients', sample, every: 3 }, topK: 1 });
    const n0 = tf.memory().numTensors;
    for (let s = 1; s <= 4; s++) {
      const out = applyTransforms([t], { a: tf.tensor1d([1, 5]) }, ctx(s));
      expect(arr(out.grads.a!)).toEqual([1, expect.closeTo(0, 6)]);
      tf.dispose(Object.values(out.grads));
    }
    expect(calls).toBe(2); // steps 1 and 4
    t.dispose!();
    expect(tf.memory().numTensors).toBe(n0); // no leak, and the cached U is freed too
  });
});

describe('pcgrad', () => {
  it('projects conflicting gradients: (1,0) and (-1,1) → (0.5,0.5) + (0,1)', () => {
    const g1 = tf.tensor1d([1, 0]);
    const g2 = tf.tensor1d([-1, 1]);
    const { combined, conflicts } = pcgradCombine([g1, g2]);
    // g1' = g1 − (−1/2)g2 = (0.5, 0.5); g2' = g2 − (−1/1)g1 = (0, 1)
    expect(arr(combined)).toEqual([expect.closeTo(0.5, 6), expect.closeTo(1.5, 6)]);
    expect(conflicts).toBe(2);
    tf.dispose([g1, g2, combined]);
  });

  it('the transform combines conflicting gradients split across two tensors: (0.5, 1.5), cos −1/√2', () => {
    const t = pcgradTransform({ objectives: { retain: () => ({ a: tf.tensor1d([-1]), b: tf.tensor1d([1]) }) } });
    const out = applyTransforms([t], { a: tf.tensor1d([1]), b: tf.tensor1d([0]) }, ctx(1));
    expect(arr(out.grads.a!)).toEqual([expect.closeTo(0.5, 6)]);
    expect(arr(out.grads.b!)).toEqual([expect.closeTo(1.5, 6)]);
    expect(out.stats['gradients/pcgrad/conflicts']).toBe(2);
    expect(out.stats['gradients/pcgrad/cos_task_retain']).toBeCloseTo(-Math.SQRT1_2, 6);
    tf.dispose(Object.values(out.grads));
  });

  it('leaves agreeing gradients as their plain sum, and logs the cosine', () => {
    const t = pcgradTransform({ objectives: { retain: () => ({ a: tf.tensor1d([0, 2]) }) } });
    const out = applyTransforms([t], { a: tf.tensor1d([2, 0]) }, ctx(1));
    expect(arr(out.grads.a!)).toEqual([2, 2]);
    expect(out.stats).toEqual({ 'gradients/pcgrad/conflicts': 0, 'gradients/pcgrad/cos_task_retain': 0 });
    tf.dispose(Object.values(out.grads));
  });
});

describe('observe', () => {
  it('changes nothing and logs cos and projection along each direction', () => {
    const t = observeTransform({ directions: { x: () => ({ a: tf.tensor1d([2, 0]) }) }, every: 10 });
    const g = { a: tf.tensor1d([3, 4]) };
    const out = applyTransforms([t], g, ctx(1));
    expect(out.grads.a).toBe(g.a);
    expect(out.stats['gradients/observe/x/cos']).toBeCloseTo(0.6, 6);
    expect(out.stats['gradients/observe/x/proj']).toBeCloseTo(3, 6);
    t.dispose!();
    g.a.dispose();
  });
});
