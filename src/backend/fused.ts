import * as tf from '@tensorflow/tfjs';
import { withGrad } from './grad.ts';
import { sumRows } from './matmul.ts';

/**
 * LayerNorm and cross-entropy as single ops with hand-written gradients: the autodiff of
 * their compositions (moments, logSoftmax, one-hot picking) costs 3–4× their forward in
 * small kernels; these backward passes are a handful of vector ops each.
 */

/** LayerNorm over the last axis: (x − mean)/√(var + eps)·g + b, x: [..., D], g, b: [D]. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor {
  const D = x.shape[x.rank - 1]!;
  const op = withGrad(([xin, gin, bin], save) => {
    const mean = tf.mean(xin!, -1, true); // [..., 1]
    const xc = tf.sub(xin!, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps)); // [..., 1]
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, gin!]);
    return {
      value: tf.add(tf.mul(xhat, gin!), bin!),
      gradFunc: (dy, saved) => {
        const [xh, rs, gs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor1D];
        const rows = (t: tf.Tensor) => tf.reshape(t, [-1, D]) as tf.Tensor2D;
        const dg = sumRows(rows(tf.mul(dy, xh)));
        const db = sumRows(rows(dy));
        // dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = g·dy.
        const gdy = tf.mul(dy, gs);
        const inner = tf.sub(tf.sub(gdy, tf.mean(gdy, -1, true)), tf.mul(xh, tf.mean(tf.mul(gdy, xh), -1, true)));
        return [tf.mul(inner, rs), dg, db];
      },
    };
  });
  return op(x, g, b);
}

/**
 * Per-row negative log-likelihood −log softmax(logits)[target]: logits [N, V], targets
 * int32 [N] → [N]. The gradient is softmax − one-hot, from the softmax kept by the
 * forward pass. log-sum-exp is read off the softmax as max(x) − log max(p), which never
 * underflows (max p ≥ 1/V) and needs no second exponential (Exp is slow on wasm;
 * Softmax is a vector kernel).
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const V = logits.shape[1];
  const op = withGrad(([x], save) => {
    const p = tf.softmax(x!); // [N, V]
    const onehot = tf.oneHot(targets, V, 1, 0, 'float32'); // [N, V]
    const lse = tf.sub(tf.max(x!, -1), tf.log(tf.max(p, -1))); // [N]
    const picked = tf.sum(tf.mul(x!, onehot), -1); // [N]
    save([p, onehot]);
    return {
      value: tf.sub(lse, picked),
      gradFunc: (dy, saved) => {
        const [ps, oh] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.mul(tf.sub(ps, oh), tf.expandDims(dy, 1))];
      },
    };
  });
  return op(logits) as tf.Tensor1D;
}
