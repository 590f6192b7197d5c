/**
 * Activation rows for SAE training: one frozen model's activations at one hook, one row per
 * token of a dataset (each sequence up to the model's context), up to a token budget.
 */
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../data/load.ts';
import type { DatasetSource } from '../data/types.ts';
import { BonsaiError } from '../errors.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import { checkProbeHook, tokenFeatures } from '../probes/capture.ts';
import type { ActivationRows } from './train.ts';

/**
 * The dataset's token sequences as the trainer reads them (text: windows of n_ctx tokens;
 * jsonl: prompt + completion + EOS per line), without their padding.
 */
export function datasetSequences(source: DatasetSource, tok: Tokenizer, nCtx: number): number[][] {
  return loadDataset(source, tok, nCtx).examples.map((e) => {
    // Padding has loss mask 0 and comes last: the sequence ends at the last position that counts.
    const len = e.lossMask.lastIndexOf(1) + 1;
    return Array.from(e.ids.subarray(0, Math.min(len, nCtx)));
  }).filter((s) => s.length > 0);
}

/** Runs `model` over `seqs` (right-padded batches) and keeps every real token's activation at `hook`, up to `maxRows`. */
export function collectActivations(model: CausalLM, hook: string, seqs: number[][], maxRows: number, batchSize = 32): ActivationRows {
  checkProbeHook(model, hook, 'sae.hook');
  const chunks: Float32Array[] = [];
  let n = 0;
  let d = 0;
  for (let s = 0; s < seqs.length && n < maxRows; s += batchSize) {
    const batch = seqs.slice(s, s + batchSize);
    const T = Math.max(...batch.map((q) => q.length));
    const ids = new Int32Array(batch.length * T); // right-padded: a causal model ignores the padding
    batch.forEach((q, j) => ids.set(q, j * T));
    const feats = tf.tidy(() => {
      const { logits, cache } = model.forward(tf.tensor2d(ids, [batch.length, T], 'int32'), { cache: hook });
      logits.dispose();
      const f = tokenFeatures(cache.get(hook)); // [B, T, D]
      cache.dispose();
      return f;
    });
    d = feats.shape[2];
    const data = feats.dataSync() as Float32Array;
    feats.dispose();
    batch.forEach((q, j) => {
      const take = Math.min(q.length, maxRows - n);
      if (take <= 0) return;
      chunks.push(data.slice(j * T * d, (j * T + take) * d));
      n += take;
    });
  }
  if (n === 0) throw new BonsaiError('sae.data: no tokens to read activations from');
  const X = new Float32Array(n * d);
  let at = 0;
  for (const c of chunks) (X.set(c, at), (at += c.length));
  return { X, n, d };
}
