import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { Example } from '../data/types.ts';
import type { CausalLM } from '../models/model.ts';
import { topKBasis } from './linalg.ts';

/**
 * Finding concept directions at a hook. Activations are read at the positions that count
 * in the loss (lossMask = 1: the completion / target tokens), the positions training acts on.
 */

/** Activations at `hook` for every counted position: [N, D] as JS rows. */
export function collectActivations(model: CausalLM, examples: readonly Example[], hook: string, batchSize = 32): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const T = chunk[0]!.ids.length - 1;
    const ids = tf.tensor2d(Int32Array.from(chunk.flatMap((e) => Array.from(e.ids.subarray(0, T)))), [chunk.length, T], 'int32');
    const { logits, cache } = model.forward(ids, { cache: hook });
    const act = cache.get(hook); // [B, T, D] (or [B, T, H, dh])
    const D = act.shape[act.shape.length - 1]!;
    const data = act.dataSync() as Float32Array;
    const perPos = act.size / (chunk.length * T);
    if (perPos !== D) throw new BonsaiError(`directions: hook ${hook} is per head; use a residual or MLP hook`);
    chunk.forEach((e, b) => {
      for (let t = 0; t < T; t++) if (e.lossMask[t + 1]) rows.push(data.slice((b * T + t) * D, (b * T + t + 1) * D));
    });
    tf.dispose([ids, logits]);
    cache.dispose();
  }
  if (!rows.length) throw new BonsaiError('directions: the examples have no counted positions');
  return rows;
}

function mean(rows: readonly Float32Array[]): Float64Array {
  const m = new Float64Array(rows[0]!.length);
  for (const r of rows) for (let i = 0; i < m.length; i++) m[i] = m[i]! + r[i]! / rows.length;
  return m;
}

/**
 * Contrastive mean difference v = mean(A) − mean(B) (persona vectors), unit-normed.
 * Separation: d′ of the projections on v, and the accuracy of the midpoint threshold.
 */
export function meanDifference(a: readonly Float32Array[], b: readonly Float32Array[]): { vector: number[]; stats: Record<string, number> } {
  const ma = mean(a), mb = mean(b);
  const diff = Array.from(ma, (x, i) => x - mb[i]!);
  const norm = Math.hypot(...diff);
  if (!(norm > 0)) throw new BonsaiError('directions: the two datasets have identical mean activations');
  const v = diff.map((x) => x / norm);
  const proj = (rows: readonly Float32Array[]) => rows.map((r) => r.reduce((s, x, i) => s + x * v[i]!, 0));
  const pa = proj(a), pb = proj(b);
  const mu = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const varOf = (xs: number[], m: number) => xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1);
  const [mA, mB] = [mu(pa), mu(pb)];
  const pooled = Math.sqrt((varOf(pa, mA) + varOf(pb, mB)) / 2);
  const mid = (mA + mB) / 2;
  const correct = pa.filter((x) => x > mid).length + pb.filter((x) => x <= mid).length;
  return { vector: v, stats: { mean_diff_norm: norm, d_prime: pooled > 0 ? (mA - mB) / pooled : Infinity, accuracy: correct / (pa.length + pb.length) } };
}

/**
 * PCA of activation differences between two models on the same inputs (CAFT): the top-k
 * principal directions of (after − before), centred, with their shares of the variance.
 */
export function pcaOfDifferences(before: readonly Float32Array[], after: readonly Float32Array[], k: number): { vectors: number[][]; explained: number[] } {
  if (before.length !== after.length) throw new Error('internal: PCA needs the same positions from both models');
  const D = before[0]!.length;
  const diffs = before.map((r, n) => Float32Array.from(r, (x, i) => after[n]![i]! - x));
  const m = mean(diffs);
  const flat = new Float32Array(diffs.length * D);
  diffs.forEach((d, n) => flat.set(d.map((x, i) => x - m[i]!), n * D));
  // Gram trick on the D×D side: PCA of [N, D] is the eigenproblem of XᵀX, D is small.
  const X = tf.tensor2d(flat, [diffs.length, D]);
  const Xt = tf.transpose(X) as tf.Tensor2D; // [D, N]
  const { basis, energy } = topKBasis(Xt, k); // rows in N-space; map back to D-space below
  const vecs = tf.tidy(() => tf.matMul(basis, X)); // [k, D] = principal axes (unnormalised)
  const arr = vecs.arraySync() as number[][];
  tf.dispose([X, Xt, basis, vecs]);
  return { vectors: arr.map((v) => { const n = Math.hypot(...v); return v.map((x) => x / n); }), explained: energy };
}

/**
 * The residual direction that raises `tokens`' logits against the rest: the mean of their
 * unembedding columns minus the mean column (W_U [D, V]; tied models read W_E [V, D]). Where
 * a steering vector should make the model say a token (the tic's readout, for preventative
 * steering), this is the direction the unembedding reads it along.
 */
export function readoutDirection(model: CausalLM, tokens: readonly number[]): number[] {
  const { dModel: D, vocabSize: V } = model.config;
  const untied = model.params.get('unembed.W_U');
  const w = (untied ?? model.params.get('embed.W_E'))?.dataSync() as Float32Array | undefined;
  if (!w) throw new BonsaiError('readout: the model has neither unembed.W_U nor embed.W_E');
  const at = (d: number, v: number) => (untied ? w[d * V + v]! : w[v * D + d]!);
  for (const t of tokens) if (!(t >= 0 && t < V)) throw new BonsaiError(`readout: token id ${t} is outside the vocabulary (0…${V - 1})`);
  if (!tokens.length) throw new BonsaiError('readout: no token given');
  return Array.from({ length: D }, (_, d) => {
    let mean = 0;
    for (let v = 0; v < V; v++) mean += at(d, v) / V;
    return tokens.reduce((s, t) => s + at(d, t), 0) / tokens.length - mean;
  });
}
