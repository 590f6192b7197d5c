/**
 * Activations for probes, read from a model (the frozen copy) at one hook point. Sequences
 * are right-padded, which a causal model ignores at every real position, and run in
 * batches; features are copied to JS rows because probe training is small and CPU-side.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';

/** token: one feature row per (labelled) position; sequence: one per sequence. */
export type ProbeLevel = 'token' | 'sequence';

/** One labelled sequence. */
export interface ProbeExample {
  ids: number[];
  /** Sequence level: the label (1 = the positive class, e.g. "will hallucinate"). */
  label?: number;
  /** Sequence level: mean over positions [start, end); default: the last token only. */
  span?: [number, number];
  /** Token level: which positions to read (default: all) … */
  positions?: number[];
  /** … and their labels, one per position; a single `label` labels them all. */
  tokenLabels?: number[];
}

/** Feature rows [n, d] and labels [n]. */
export interface Features {
  X: Float32Array; // [n, d]
  y: Float32Array; // [n]
  n: number;
  d: number;
}

/** Throws, listing the valid hooks, unless `hook` is a probe-able hook point of `model`. */
export function checkProbeHook(model: CausalLM, hook: string, where = 'probe hook'): void {
  const valid = model.hookPoints().filter((h) => !h.endsWith('hook_pattern'));
  if (!valid.includes(hook)) {
    throw new BonsaiError(`${where}: "${hook}" is not a hook point a probe can read; valid hooks: ${valid.join(', ')}`);
  }
}

/** A cached activation as per-token features: [B, T, ...] → [B, T, F]. */
export function tokenFeatures(act: tf.Tensor): tf.Tensor3D {
  const [B, T] = act.shape as [number, number];
  return tf.reshape(act, [B, T, -1]) as tf.Tensor3D;
}

/**
 * Runs `model` over the examples and collects probe features at `hook`: the activations,
 * or `encode` of them (e.g. an SAE's latents, [B, T, F] → [B, T, F']) when given.
 */
export function captureFeatures(model: CausalLM, hook: string, level: ProbeLevel, examples: ProbeExample[], batchSize = 32, encode?: (act: tf.Tensor3D) => tf.Tensor): Features {
  checkProbeHook(model, hook);
  const rows: Float32Array[] = [];
  const ys: number[] = [];
  let d = 0;
  for (let s = 0; s < examples.length; s += batchSize) {
    const batch = examples.slice(s, s + batchSize);
    const T = Math.max(...batch.map((e) => e.ids.length));
    if (T > model.config.nCtx) throw new BonsaiError(`probe data: a sequence of ${T} tokens exceeds the model's context (${model.config.nCtx})`);
    const ids = new Int32Array(batch.length * T);
    batch.forEach((e, j) => ids.set(e.ids, j * T));
    const idsT = tf.tensor2d(ids, [batch.length, T], 'int32');
    const { logits, cache } = model.forward(idsT, { cache: hook });
    tf.dispose([idsT, logits]);
    const feats = encode ? (tf.tidy(() => tokenFeatures(encode(tokenFeatures(cache.get(hook))))) as tf.Tensor3D) : tokenFeatures(cache.get(hook));
    const data = feats.dataSync() as Float32Array; // [B, T, F]
    d = feats.shape[2];
    feats.dispose();
    cache.dispose();
    const row = (j: number, t: number) => data.subarray((j * T + t) * d, (j * T + t + 1) * d);
    batch.forEach((e, j) => {
      const L = e.ids.length;
      if (level === 'sequence') {
        const [a, b] = e.span ?? [L - 1, L];
        if (!(a >= 0 && b <= L && a < b)) throw new BonsaiError(`probe data: span [${a}, ${b}) is outside a sequence of ${L} tokens`);
        const mean = new Float32Array(d);
        for (let t = a; t < b; t++) row(j, t).forEach((v, k) => (mean[k]! += v / (b - a)));
        rows.push(mean);
        ys.push(e.label ?? NaN);
      } else {
        const pos = e.positions ?? Array.from({ length: L }, (_, t) => t);
        pos.forEach((t, k) => {
          if (t < 0 || t >= L) throw new BonsaiError(`probe data: position ${t} is outside a sequence of ${L} tokens`);
          rows.push(row(j, t).slice());
          ys.push(e.tokenLabels?.[k] ?? e.label ?? NaN);
        });
      }
    });
  }
  if (ys.some((v) => !(v === 0 || v === 1))) throw new BonsaiError('probe data: every example needs a 0/1 label');
  const X = new Float32Array(rows.length * d);
  rows.forEach((r, i) => X.set(r, i * d));
  return { X, y: Float32Array.from(ys), n: rows.length, d };
}
