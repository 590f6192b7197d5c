import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { attention, linear } from '../../src/backend/ops.ts';
import { findBlas } from '../../src/backend/blas-library.ts';
import { Rng } from '../../src/util/rng.ts';

/**
 * The BLAS path on tfjs's threaded wasm build, whose heap is a SharedArrayBuffer (the suite
 * otherwise runs on 1 thread, the single-threaded build): products, attention and their
 * gradients against tfjs-cpu. A file of its own, so that its process starts wasm threaded.
 */

function valueAndGrads(): number[][] {
  return tf.tidy(() => {
    const r = new Rng(8);
    const t = (shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()), shape);
    const [x, w, b, q, k, v] = [t([24, 16]), t([16, 12]), t([12]), t([2, 6, 3, 4]), t([2, 6, 3, 4]), t([2, 6, 3, 4])];
    const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([6, 6]), -1, 0)), -1e9) as tf.Tensor2D;
    const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
      tf.add(tf.sum(tf.square(linear(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D))), tf.sum(tf.square(attention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, mask, 0.5))));
    const { value, grads } = tf.valueAndGrads(f)([x, w, b, q, k, v]);
    return [value, ...grads].map((g) => Array.from(g.dataSync()));
  });
}

describe.runIf(os.availableParallelism() >= 2 && findBlas().library)('BLAS on the threaded wasm build (2 threads)', () => {
  it('runs on the shared heap and agrees with cpu', async () => {
    await initBackend('cpu');
    const want = valueAndGrads();
    const report = await initBackend('wasm', { threads: 2 });
    expect(report.threads).toBe(2);
    expect(report.products?.path).toBe('blas');
    const heap = (tf.backend() as unknown as { wasm: { wasmMemory?: { buffer: ArrayBufferLike } } }).wasm.wasmMemory?.buffer;
    expect(heap).toBeInstanceOf(SharedArrayBuffer);
    const got = valueAndGrads();
    got.forEach((g, i) => {
      const scale = Math.max(1, ...want[i]!.map(Math.abs));
      g.forEach((x, j) => expect(Math.abs(x - want[i]![j]!) / scale).toBeLessThan(1e-5));
    });
  });
});
