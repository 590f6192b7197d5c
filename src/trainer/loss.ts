import * as tf from '@tensorflow/tfjs';
import type { ForwardOptions } from '../models/hooks.ts';
import type { CausalLM } from '../models/model.ts';
import { ceChunkRows, chunkedNll } from '../models/chunked-ce.ts';

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
 * The logits are computed `ceChunk` tokens at a time (chunked-ce.ts; default `auto`), so
 * the whole [B, T, V] logits and their gradient never exist at once.
 */
export function lmLoss(
  model: CausalLM,
  batch: LmBatch,
  opts: { normalizer?: number; forward?: ForwardOptions; ceChunk?: number | 'auto' } = {},
): tf.Scalar {
  return tf.tidy(() => {
    const { batchSize: B, seqLen: T } = batch;
    const { vocabSize: V, dModel: D } = model.config;
    const ids = tf.tensor2d(batch.inputs, [B, T], 'int32');
    const { hidden, cache } = model.forwardHidden(ids, opts.forward ?? {}); // [B, T, D]
    cache.dispose();
    const flat = tf.reshape(hidden, [B * T, D]) as tf.Tensor2D;
    const nll = chunkedNll(model, flat, tf.tensor1d(batch.targets, 'int32'), ceChunkRows(V, opts.ceChunk)); // [N]
    const total = tf.sum(tf.mul(nll, tf.tensor1d(batch.weights)));
    return tf.div(total, Math.max(1, opts.normalizer ?? countTargets(batch))) as tf.Scalar;
  });
}
