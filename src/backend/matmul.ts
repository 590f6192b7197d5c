import * as tf from '@tensorflow/tfjs';
import { activeBlas } from './blas-kernels.ts';

/**
 * Matrix products in the forms each backend multiplies fast.
 *
 * tfjs-backend-wasm sends a product to XNNPACK (SIMD, threaded) only when it is a single
 * 2-D product with neither operand transposed; everything else (transposeA/B, a batch)
 * runs a scalar triple loop at 1–3 GFLOP/s instead of 20–40. So on wasm:
 *   - transposes are made explicit (a separate, cheap Transpose, then a plain product);
 *   - batched products become one grouped convolution (`depthwiseConv2d` with a channel
 *     multiplier), which XNNPACK runs as a GEMM per group.
 * Other backends (tfjs-node, cpu) get the plain ops: their kernels have no such cliff, and
 * neither has wasm when its products run on the platform's BLAS (blas-kernels.ts), where a
 * transpose is a flag and a batch a loop of calls: there the plain ops are the fast ones.
 */

/** True when products should avoid the wasm slow paths: wasm with its products on XNNPACK. */
export function wasmSlowProducts(): boolean {
  return tf.getBackend() === 'wasm' && activeBlas() === undefined;
}

/** aᵀ·b for a: [N, I], b: [N, O] → [I, O]: the weight gradient of x·W. */
export function matMulTN(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!wasmSlowProducts()) return tf.matMul(a, b, true, false);
  return tf.tidy((): tf.Tensor2D => {
    const [N, I] = a.shape;
    const O = b.shape[1];
    // Transpose whichever operand is smaller; (bᵀ·a)ᵀ needs a second, small transpose.
    if (N * I <= N * O + I * O) return tf.matMul(tf.transpose(a), b);
    return tf.transpose(tf.matMul(tf.transpose(b), a)) as tf.Tensor2D;
  });
}

/** a·bᵀ for a: [N, O], b: [I, O] → [N, I]: the input gradient of x·W. */
export function matMulNT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!wasmSlowProducts()) return tf.matMul(a, b, false, true);
  return tf.tidy(() => tf.matMul(a, tf.transpose(b)));
}

/**
 * a·bᵀ for few rows a: [N, O] against a wide b: [I, O] (e.g. a decode step's hidden states
 * against a tied embedding [V, D]) → [N, I]. On wasm as (b·aᵀ)ᵀ: the products run on XNNPACK
 * without transposing (and repacking) the big operand every call; only a and the [I, N]
 * result are transposed. Not differentiated (inference).
 */
export function matMulNTWide(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!wasmSlowProducts()) return tf.matMul(a, b, false, true);
  return tf.tidy(() => tf.transpose(tf.matMul(b, tf.transpose(a))) as tf.Tensor2D);
}

/** Σ over rows: x: [N, C] → [C] (fast on wasm through the Sum override, wasm-overrides.ts). */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(x, 0);
}

/**
 * Batched product with either operand transposed, on [G, ·, ·] (G = batch·heads):
 * op(a)·op(b) where op(a) is [G, M, K] and op(b) is [G, K, N]; returns [G, M, N].
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transposeA: boolean, transposeB: boolean): tf.Tensor3D {
  if (!wasmSlowProducts()) return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => {
    const [G] = a.shape;
    const M = transposeA ? a.shape[2] : a.shape[1];
    const K = transposeA ? a.shape[1] : a.shape[2];
    const N = transposeB ? b.shape[1] : b.shape[2];
    // depthwiseConv2d(input [batch, 1, K, G], filter [1, K, G, N]) 'valid' gives
    //   out[m, 0, 0, g·N + n] = Σ_k input[m, 0, k, g] · filter[0, k, g, n],
    // i.e. for every group g the product of an [M, K] and a [K, N] matrix.
    const input = tf.reshape(tf.transpose(a, transposeA ? [2, 1, 0] : [1, 2, 0]), [M, 1, K, G]) as tf.Tensor4D; // [M, 1, K, G]
    const filter = tf.reshape(tf.transpose(b, transposeB ? [2, 0, 1] : [1, 0, 2]), [1, K, G, N]) as tf.Tensor4D; // [1, K, G, N]
    const out = tf.depthwiseConv2d(input, filter, 1, 'valid'); // [M, 1, 1, G·N]
    return tf.transpose(tf.reshape(out, [M, G, N]), [1, 0, 2]) as tf.Tensor3D; // [G, M, N]
  });
}
