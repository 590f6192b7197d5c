import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../backend/ops.ts';
import type { ForwardOptions } from './hooks.ts';
import type { CausalLM } from './model.ts';
import { ceChunkRows, chunkedNll, type Unembedding } from './chunked-ce.ts';

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

/**
 * tokenLogprobs(model.forward(ids).logits, ids) without the [R, T, V] logits: the hidden
 * states of positions 0..T-2 are unembedded `ceChunk` rows at a time (chunked-ce.ts), in
 * the forward and, recomputed, in the backward. ids [R, T] → [R, T-1]. Not tidied.
 */
export function chunkedTokenLogprobs(model: CausalLM, ids: tf.Tensor2D, forward: ForwardOptions = {}, ceChunk: number | 'auto' = 'auto'): tf.Tensor2D {
  const [R, T] = ids.shape;
  const { hidden, cache } = model.forwardHidden(ids, forward); // [R, T, D]
  cache.dispose();
  const D = hidden.shape[2];
  const h = tf.reshape(tf.slice(hidden, [0, 0, 0], [R, T - 1, D]), [R * (T - 1), D]) as tf.Tensor2D;
  const targets = tf.reshape(tf.slice(ids, [0, 1], [R, T - 1]), [R * (T - 1)]) as tf.Tensor1D;
  const nll = chunkedNll(model, h, targets, ceChunkRows(model.config.vocabSize, ceChunk)); // [R·(T-1)]
  return tf.reshape(tf.neg(nll), [R, T - 1]) as tf.Tensor2D;
}

/**
 * The no-grad passes' numbers (the frozen reference log-probs, the policy's old log-probs and
 * entropy) without the [R, T, V] logits: hidden [R, T, D] (forwardHidden's) and ids [R, T] →
 * logprobs [R, T-1], log p(ids[t+1] | ids[..t]), and with `withEntropy` the next-token entropy
 * [R, T-1] (nats), the output head run `chunkRows` rows at a time. The same per-row ops as
 * tokenLogprobs and maskedEntropy on the full logits. For passes outside any gradient.
 */
export function noGradLogprobs(model: Unembedding, hidden: tf.Tensor3D, ids: tf.Tensor2D, chunkRows: number, withEntropy = false): { logprobs: tf.Tensor2D; entropy?: tf.Tensor2D } {
  return tf.tidy(() => {
    const [R, T, D] = hidden.shape;
    const N = R * (T - 1);
    const h = tf.reshape(tf.slice(hidden, [0, 0, 0], [R, T - 1, D]), [N, D]) as tf.Tensor2D;
    const targets = tf.reshape(tf.slice(ids, [0, 1], [R, T - 1]), [N]) as tf.Tensor1D;
    const lp: tf.Tensor[] = [];
    const ent: tf.Tensor[] = [];
    for (let start = 0; start < N; start += chunkRows) {
      const n = Math.min(chunkRows, N - start);
      const [l, e] = tf.tidy(() => {
        const logits = model.unembed(tf.slice(h, [start, 0], [n, D])); // [n, V]: one chunk alive at a time
        const l = tf.neg(crossEntropy(logits, tf.slice(targets, start, n)));
        if (!withEntropy) return [l];
        const logp = tf.logSoftmax(logits);
        return [l, tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1))];
      });
      lp.push(l!);
      if (e) ent.push(e);
    }
    const rows = (parts: tf.Tensor[]) => tf.reshape(parts.length === 1 ? parts[0]! : tf.concat(parts), [R, T - 1]) as tf.Tensor2D;
    return withEntropy ? { logprobs: rows(lp), entropy: rows(ent) } : { logprobs: rows(lp) };
  });
}

/** Mean of per-position values [R, T-1] over the masked positions (e.g. noGradLogprobs' entropy); a metric. */
export function maskedMean(values: tf.Tensor2D, mask: tf.Tensor2D): number {
  const m = tf.tidy(() => tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(tf.sum(mask), 1)));
  const v = m.dataSync()[0]!;
  m.dispose();
  return v;
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
