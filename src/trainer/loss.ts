import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../backend/ops.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import type { CausalLM } from '../models/model.ts';

/** A batch of next-token targets, flattened row-major. */
export interface LmBatch {
  inputs: Int32Array; // [B*T]
  targets: Int32Array; // [B*T]
  /** 1 where the target counts in the loss (e.g. completion tokens only), else 0. */
  weights: Float32Array; // [B*T]
  batchSize: number;
  seqLen: number;
}

/** Number of targets that count in the loss. */
export function countTargets(batch: LmBatch): number {
  let n = 0;
  for (const w of batch.weights) n += w;
  return n;
}

/**
 * Summed weighted cross-entropy (nats) of the batch divided by `normalizer` (default:
 * this batch's target count, i.e. the token mean). Gradient accumulation passes the
 * token count of all micro-batches, so the sum of the parts is the mean of the whole.
 */
export function lmLoss(
  model: CausalLM,
  batch: LmBatch,
  opts: { normalizer?: number; forward?: ForwardOptions } = {},
): tf.Scalar {
  return tf.tidy(() => {
    const { batchSize: B, seqLen: T } = batch;
    const V = model.config.vocabSize;
    const ids = tf.tensor2d(batch.inputs, [B, T], 'int32');
    const { logits, cache } = model.forward(ids, opts.forward ?? {});
    cache.dispose();
    const nll = crossEntropy(tf.reshape(logits, [B * T, V]) as tf.Tensor2D, tf.tensor1d(batch.targets, 'int32')); // [N]
    const total = tf.sum(tf.mul(nll, tf.tensor1d(batch.weights)));
    return tf.div(total, Math.max(1, opts.normalizer ?? countTargets(batch))) as tf.Scalar;
  });
}
