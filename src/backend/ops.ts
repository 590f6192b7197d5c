import * as tf from '@tensorflow/tfjs';

/**
 * The matrix products the model uses, behind one seam so a backend can get a faster
 * formulation (e.g. wasm multiplies slowly when an operand is transposed).
 */

/** x @ w for x: [N, in], w: [in, out] → [N, out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(x, w);
}

/** Batched a @ b (or a @ bᵀ): a: [..., M, K], b: [..., K, N] (or [..., N, K]). */
export function bmm(a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor {
  return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, transposeB);
}

/** GELU, tanh approximation (GPT-2's). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const c = Math.sqrt(2 / Math.PI);
    const inner = tf.mul(c, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}
