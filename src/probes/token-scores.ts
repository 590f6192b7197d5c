/**
 * A token-level probe's score at every token of whole texts, read on the frozen copy. Texts
 * longer than the context are read in windows of nCtx tokens that advance by half a window,
 * so every token past the first window is scored with at least nCtx/2 tokens of context.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';
import { tokenFeatures } from './capture.ts';
import type { Probe } from './probe.ts';

/** One window: which sequence, where it starts, and which of its positions are reported. */
interface Window {
  seq: number;
  start: number;
  ids: number[];
  /** Positions within the window whose score is kept: [from, ids.length). */
  from: number;
}

function windows(seqs: number[][], nCtx: number): Window[] {
  const half = Math.max(1, Math.floor(nCtx / 2));
  const out: Window[] = [];
  seqs.forEach((ids, seq) => {
    if (ids.length <= nCtx) return void out.push({ seq, start: 0, ids, from: 0 });
    out.push({ seq, start: 0, ids: ids.slice(0, nCtx), from: 0 });
    for (let end = nCtx; end < ids.length; end += half) {
      const stop = Math.min(ids.length, end + half);
      const start = stop - nCtx;
      out.push({ seq, start, ids: ids.slice(start, stop), from: end - start });
    }
  });
  return out;
}

/** Probe scores in [0, 1], one per token of each sequence. */
export function scoreTokens(frozen: CausalLM, probe: Probe, seqs: number[][], batchSize = 32): Float32Array[] {
  if (probe.meta.level !== 'token') throw new BonsaiError(`probe "${probe.meta.name}" is a ${probe.meta.level}-level probe; token scores need a token-level one`);
  const hook = probe.meta.hook;
  const out = seqs.map((s) => new Float32Array(s.length));
  const ws = windows(seqs, frozen.config.nCtx).filter((w) => w.ids.length > 0);
  for (let s = 0; s < ws.length; s += batchSize) {
    const batch = ws.slice(s, s + batchSize);
    const T = Math.max(...batch.map((w) => w.ids.length));
    const ids = new Int32Array(batch.length * T); // right-padded: a causal model ignores the padding
    batch.forEach((w, j) => ids.set(w.ids, j * T));
    const scores = tf.tidy(() => {
      const { logits, cache } = frozen.forward(tf.tensor2d(ids, [batch.length, T], 'int32'), { cache: hook });
      logits.dispose();
      const sc = probe.score(tokenFeatures(cache.get(hook))); // [B, T]
      cache.dispose();
      return sc;
    });
    const v = scores.dataSync();
    scores.dispose();
    batch.forEach((w, j) => {
      for (let t = w.from; t < w.ids.length; t++) out[w.seq]![w.start + t] = v[j * T + t]!;
    });
  }
  return out;
}
