import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyTransforms, clipTransform, globalNorm } from '../../src/gradients/index.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const ctx = { step: 1, params: new Map() };

describe('clip', () => {
  it('scales a 3-4-12 gradient (norm 13) to norm 1, keeping its direction', () => {
    const grads = { a: tf.tensor1d([3, 4]), b: tf.tensor1d([12]) };
    const out = applyTransforms([clipTransform(1)], grads, ctx);
    expect(globalNorm(out.grads).dataSync()[0]).toBeCloseTo(1, 5);
    expect(Array.from(out.grads.a!.dataSync())).toEqual([expect.closeTo(3 / 13, 5), expect.closeTo(4 / 13, 5)]);
    expect(out.stats).toEqual({ 'gradients/clip/norm': 13, 'gradients/clip/clipped': 1 });
    expect(grads.a.isDisposed).toBe(true); // replaced by the stage, freed by applyTransforms
  });

  it('leaves a small gradient untouched (the same tensors)', () => {
    const grads = { a: tf.tensor1d([0.3, 0.4]) };
    const out = applyTransforms([clipTransform(1, 'guard')], grads, ctx);
    expect(out.grads.a).toBe(grads.a);
    expect(out.stats).toEqual({ 'gradients/guard/norm': expect.closeTo(0.5, 6), 'gradients/guard/clipped': 0 });
  });
});
