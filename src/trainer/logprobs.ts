import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../backend/ops.ts';

/**
 * Log-probability of each next token: logits [R, T, V] and ids [R, T] → [R, T-1], where
 * entry t is log p(ids[t+1] | ids[..t]). Uses the fused cross-entropy (explicit gradient),
 * so policy and reference share one numerically identical path. Not tidied: call inside
 * tf.tidy or variableGrads.
 */
export function tokenLogprobs(logits: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor2D {
  const [R, T, V] = logits.shape;
  const inputs = tf.reshape(tf.slice(logits, [0, 0, 0], [R, T - 1, V]), [R * (T - 1), V]) as tf.Tensor2D;
  const targets = tf.reshape(tf.slice(ids, [0, 1], [R, T - 1]), [R * (T - 1)]) as tf.Tensor1D;
  return tf.reshape(tf.neg(crossEntropy(inputs, targets)), [R, T - 1]) as tf.Tensor2D;
}

/** Mean entropy (nats) of the next-token distribution over masked positions; a metric. */
export function maskedEntropy(logits: tf.Tensor3D, mask: tf.Tensor2D): number {
  const e = tf.tidy(() => {
    const [R, T, V] = logits.shape;
    const lp = tf.logSoftmax(tf.slice(logits, [0, 0, 0], [R, T - 1, V])); // [R, T-1, V]
    const ent = tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1)); // [R, T-1]
    return tf.div(tf.sum(tf.mul(ent, mask)), tf.maximum(tf.sum(mask), 1));
  });
  const v = e.dataSync()[0]!;
  e.dispose();
  return v;
}
