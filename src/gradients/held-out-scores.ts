/**
 * What the held-out rules read on their validation split (held-out.ts keeps the split apart):
 * the freeze guard's exact-match accuracy and the K-FAC rule's token-mean loss. Both run the
 * model without hooks, so training-time interventions stay off.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types.ts';
import { crossEntropy } from '../backend/ops.ts';
import type { CausalLM } from '../models/model.ts';

/**
 * Share of the batches' rows whose every target token is the model's argmax given the tokens
 * before it (teacher-forced exact match; no hooks, so training-time interventions stay off).
 */
export function exactMatchAccuracy(model: CausalLM, batches: readonly Batch[]): number {
  let right = 0;
  let rows = 0;
  for (const b of batches) {
    const { batchSize: B, seqLen: T } = b;
    const pred = tf.tidy(() => {
      const { logits, cache } = model.forward(tf.tensor2d(b.inputs, [B, T], 'int32'));
      cache.dispose();
      return tf.argMax(logits, -1).dataSync(); // [B·T]
    });
    for (let r = 0; r < B; r++) {
      let counted = false;
      let ok = true;
      for (let t = 0; t < T; t++) {
        if (!b.weights[r * T + t]) continue;
        counted = true;
        if (pred[r * T + t] !== b.targets[r * T + t]) ok = false;
      }
      if (!counted) continue;
      rows++;
      if (ok) right++;
    }
  }
  return rows ? right / rows : NaN;
}

/** Token-mean loss (nats) of the batches' target tokens, no hooks: how the K-FAC rule reads its validation split. */
export function heldOutLoss(model: CausalLM, batches: readonly Batch[]): number {
  let total = 0;
  let tokens = 0;
  for (const b of batches) {
    const { batchSize: B, seqLen: T } = b;
    total += tf.tidy(() => {
      const { logits, cache } = model.forward(tf.tensor2d(b.inputs, [B, T], 'int32'));
      cache.dispose();
      const nll = crossEntropy(tf.reshape(logits, [B * T, -1]) as tf.Tensor2D, tf.tensor1d(b.targets, 'int32')); // [B·T]
      return tf.sum(tf.mul(nll, tf.tensor1d(b.weights))).dataSync()[0]!;
    });
    tokens += b.weights.reduce((s, w) => s + w, 0);
  }
  return tokens ? total / tokens : NaN;
}
