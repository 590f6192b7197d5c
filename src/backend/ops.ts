import * as tf from '@tensorflow/tfjs';
import { withGrad } from './grad.ts';
import { batchMatMul, matMulNT, matMulNTWide, matMulTN, wasmSlowProducts, sumRows } from './matmul.ts';

/**
 * The products and nonlinearities the model uses, behind one seam so each backend gets
 * its fastest formulation (see matmul.ts for why wasm needs its own). Every op here has
 * an explicit gradient (tf.customGrad), so the backward pass uses the same fast forms;
 * values and gradients equal the plain tf composition to float rounding (tested).
 */

const linearNoBias = withGrad(([x, w], save) => {
  save([x!, w!]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [matMulNT(dy as tf.Tensor2D, ws), matMulTN(xs, dy as tf.Tensor2D)];
    },
  };
});

const linearBias = withGrad(([x, w, b], save) => {
  save([x!, w!]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [matMulNT(g, ws), matMulTN(xs, g), sumRows(g)];
    },
  };
});

/** x·w (+ b) for x: [N, in], w: [in, out], b: [out] → [N, out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  return (b ? linearBias(x, w, b) : linearNoBias(x, w)) as tf.Tensor2D;
}

const bmmNN = withGrad(([a, b], save) => {
  save([a!, b!]);
  return {
    value: batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D, false, false),
    gradFunc: (dy, saved) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      const g = dy as tf.Tensor3D;
      // c = a·b: da = dc·bᵀ, db = aᵀ·dc.
      return [batchMatMul(g, bs, false, true), batchMatMul(as, g, true, false)];
    },
  };
});

const bmmNT = withGrad(([a, b], save) => {
  save([a!, b!]);
  return {
    value: batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true),
    gradFunc: (dy, saved) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      const g = dy as tf.Tensor3D;
      // c = a·bᵀ: da = dc·b, db = dcᵀ·a.
      return [batchMatMul(g, bs, false, false), batchMatMul(g, as, true, false)];
    },
  };
});

/** Batched a @ b (or a @ bᵀ): a: [..., M, K], b: [..., K, N] (or [..., N, K]). */
export function bmm(a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor {
  const sameBatch = a.rank === b.rank && a.rank >= 3 && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
  // Broadcast batch dimensions (and plain 2-D products) keep tf.matMul's semantics.
  if (!sameBatch) return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, transposeB);
  return tf.tidy(() => {
    const lead = a.shape.slice(0, -2);
    const a3 = tf.reshape(a, [-1, a.shape[a.rank - 2]!, a.shape[a.rank - 1]!]) as tf.Tensor3D;
    const b3 = tf.reshape(b, [-1, b.shape[b.rank - 2]!, b.shape[b.rank - 1]!]) as tf.Tensor3D;
    const c = (transposeB ? bmmNT(a3, b3) : bmmNN(a3, b3)) as tf.Tensor3D;
    return tf.reshape(c, [...lead, c.shape[1], c.shape[2]]);
  });
}

// GELU (tanh form) = 0.5·x·(1 + tanh(u)) = x·σ(2u), u = √(2/π)·(x + 0.044715·x³).
// The σ form is exact algebra and much faster on wasm, whose Tanh and Pow are scalar
// libm loops while Sigmoid and Multiply are XNNPACK's vector kernels.
const GELU_A = 2 * Math.sqrt(2 / Math.PI); // 2u = x·(A + B·x²)
const GELU_B = GELU_A * 0.044715;

const geluSigmoid = withGrad(([x], save) => {
  x = x!;
  const x2 = tf.square(x);
  const s = tf.sigmoid(tf.mul(x, tf.add(tf.mul(x2, GELU_B), GELU_A))); // σ(2u)
  save([x, s]);
  return {
    value: tf.mul(x, s),
    gradFunc: (dy, saved) => {
      const [xs, ss] = saved as [tf.Tensor, tf.Tensor];
      // d/dx x·σ(2u) = σ + x·σ·(1 − σ)·d(2u)/dx, with d(2u)/dx = A + 3B·x².
      const du = tf.add(tf.mul(tf.square(xs), 3 * GELU_B), GELU_A);
      const inner = tf.mul(tf.mul(xs, tf.sub(ss, tf.square(ss))), du);
      return [tf.mul(dy as tf.Tensor, tf.add(ss, inner))];
    },
  };
});

/** GELU, tanh approximation (GPT-2's). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluSigmoid(x);
}

export { wasmSlowProducts, matMulNTWide };
export { layerNorm, crossEntropy } from './fused.ts';
export { attention } from './attention.ts';
