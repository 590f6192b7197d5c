/**
 * K-FAC curvature factors of chosen linear maps: A = E[aaᵀ] over each map's inputs and
 * G = E[ggᵀ] over the loss gradients at its outputs, per token. With `fisher: sampled`
 * the labels come from the model's own next-token distribution (the true Fisher); with
 * `empirical`, from the data. Gradients at outputs are taken by adding a zero tensor at
 * each output hook and differentiating the loss with respect to it.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulTN } from '../backend/matmul.ts';
import { crossEntropy } from '../backend/ops.ts';
import { makeBatch } from '../data/batcher.ts';
import type { Example } from '../data/types.ts';
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';
import { normalize } from '../models/layers.ts';
import { Rng } from '../util/rng.ts';
import type { LinearSite } from './kfac-sites.ts';

/** Which Fisher: labels sampled from the model (true Fisher) or the data's labels (empirical). */
export type FisherKind = 'sampled' | 'empirical';

/** A and G of one linear map, as float64 row-major matrices. */
export interface KfacFactor {
  path: string;
  inDim: number;
  outDim: number;
  A: Float64Array; // [in, in]
  G: Float64Array; // [out, out]
}

/** Factors for a set of targets, and what they were collected from. */
export interface KfacFactors {
  /** Fingerprint of the model the factors describe; another model's factors are refused. */
  fingerprint: string;
  fisher: FisherKind;
  /** Token positions averaged over. */
  tokens: number;
  factors: Map<string, KfacFactor>;
}

export interface CollectOptions {
  fisher: FisherKind;
  /** Stop once this many token positions are collected (whole batches). */
  tokens: number;
  batchSize?: number;
  /** Seed of the label sampling (sampled Fisher). */
  seed?: number;
}

/**
 * Collects A and G for `sites` over `examples` (cycled in order until the token budget is
 * met). Positions count from the first token to the last target of each example; padding
 * contributes nothing. Tensor count is unchanged after the call.
 */
export function collectKfacFactors(model: CausalLM, sites: readonly LinearSite[], examples: readonly Example[], opts: CollectOptions): KfacFactors {
  if (examples.length === 0) throw new BonsaiError('K-FAC needs at least one example to estimate curvature on');
  const B = opts.batchSize ?? 16;
  const T = examples[0]!.ids.length - 1;
  const rng = new Rng(opts.seed ?? 0);
  const sums = sites.map((s) => ({ A: tf.zeros([s.inDim, s.inDim]) as tf.Tensor2D, G: tf.zeros([s.outDim, s.outDim]) as tf.Tensor2D }));
  let tokens = 0;
  try {
    for (let start = 0; tokens < opts.tokens; start += B) {
      const rows = Array.from({ length: B }, (_, k) => examples[(start + k) % examples.length]!);
      const batch = makeBatch(rows, T);
      const real = realPositions(batch.weights, B, T); // [B·T] 1 up to each row's last target
      const labels = opts.fisher === 'empirical' ? batch.targets : sampleLabels(model, batch.inputs, real, B, T, rng);
      tokens += real.reduce((s, v) => s + v, 0);
      accumulate(model, sites, batch.inputs, labels, real, B, T, sums);
    }
    const factors = new Map<string, KfacFactor>();
    sites.forEach((s, k) => {
      const toF64 = (t: tf.Tensor) => Float64Array.from(t.dataSync(), (v) => v / tokens);
      factors.set(s.path, { path: s.path, inDim: s.inDim, outDim: s.outDim, A: toF64(sums[k]!.A), G: toF64(sums[k]!.G) });
    });
    return { fingerprint: model.fingerprint(), fisher: opts.fisher, tokens, factors };
  } finally {
    for (const s of sums) tf.dispose([s.A, s.G]);
  }
}

/** 1 at positions 0…(last target) of each row, 0 after (padding). */
function realPositions(weights: Float32Array, B: number, T: number): Float32Array {
  const real = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    let last = -1;
    for (let t = 0; t < T; t++) if (weights[b * T + t]! > 0) last = t;
    for (let t = 0; t <= last; t++) real[b * T + t] = 1;
  }
  return real;
}

/** Next tokens drawn from the model's softmax at every real position (0 elsewhere). */
function sampleLabels(model: CausalLM, inputs: Int32Array, real: Float32Array, B: number, T: number, rng: Rng): Int32Array {
  const V = model.config.vocabSize;
  const probs = tf.tidy(() => {
    const { logits, cache } = model.forward(tf.tensor2d(inputs, [B, T], 'int32'));
    cache.dispose();
    return tf.softmax(logits).dataSync(); // [B·T·V]
  });
  const labels = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    if (!real[i]) continue;
    let u = rng.next();
    let v = 0;
    for (; v < V - 1; v++) if ((u -= probs[i * V + v]!) < 0) break;
    labels[i] = v;
  }
  return labels;
}

/** One batch: forward with zero probes at the outputs, gradients of the summed loss, then A += aᵀa and G += gᵀg. */
function accumulate(
  model: CausalLM,
  sites: readonly LinearSite[],
  inputs: Int32Array,
  labels: Int32Array,
  real: Float32Array,
  B: number,
  T: number,
  sums: Array<{ A: tf.Tensor2D; G: tf.Tensor2D }>,
): void {
  const inputsSeen = new Map<string, tf.Tensor>();
  const outHooks = [...new Set(sites.map((s) => s.outputHook))];
  const inHooks = [...new Set(sites.map((s) => s.inputHook))];
  const ids = tf.tensor2d(inputs, [B, T], 'int32');
  const labelT = tf.tensor1d(labels, 'int32');
  const mask = tf.tensor1d(real);
  const zeros = outHooks.map((h) => tf.zeros([B, T, ...sites.find((s) => s.outputHook === h)!.outShape]));
  const loss = (...probes: tf.Tensor[]) => {
    const hooks = [
      ...inHooks.map((h) => ({ at: h, fn: (a: tf.Tensor) => (inputsSeen.set(h, tf.keep(a.clone())), a) })),
      ...outHooks.map((h, k) => ({ at: h, fn: (a: tf.Tensor) => tf.add(a, probes[k]!) })),
    ];
    const { logits, cache } = model.forward(ids, { hooks });
    cache.dispose();
    const nll = crossEntropy(tf.reshape(logits, [B * T, -1]) as tf.Tensor2D, labelT); // [B·T]
    return tf.sum(tf.mul(nll, mask)) as tf.Scalar;
  };
  try {
    const grads = tf.grads(loss)(zeros);
    tf.tidy(() => {
      sites.forEach((s, k) => {
        let a = tf.reshape(inputsSeen.get(s.inputHook)!, [B * T, s.inDim]); // [N, in]
        if (s.inputNorm) a = normalize(model.config, a, model.params.get(`${s.inputNorm}.w`)! as tf.Tensor1D, model.params.get(`${s.inputNorm}.b`) as tf.Tensor1D | undefined);
        a = tf.mul(a, tf.reshape(mask, [-1, 1]));
        const g = tf.reshape(grads[outHooks.indexOf(s.outputHook)]!, [B * T, s.outDim]); // [N, out]
        const sum = sums[k]!;
        // aᵀa through matMulTN: on wasm a transposed tf.matMul falls off XNNPACK onto a scalar loop.
        const A = tf.add(sum.A, matMulTN(a as tf.Tensor2D, a as tf.Tensor2D));
        const G = tf.add(sum.G, matMulTN(g as tf.Tensor2D, g as tf.Tensor2D));
        tf.dispose([sum.A, sum.G]);
        sum.A = tf.keep(A) as tf.Tensor2D;
        sum.G = tf.keep(G) as tf.Tensor2D;
      });
    });
    tf.dispose(grads);
  } finally {
    tf.dispose([ids, labelT, mask, ...zeros, ...inputsSeen.values()]);
  }
}
