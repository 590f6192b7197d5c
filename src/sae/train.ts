/**
 * Training a TopK SAE on activation rows (Gao et al. 2024): minibatch Adam on the
 * normalised reconstruction error, decoder rows renormalised to unit norm after every step,
 * and the AuxK loss, which makes latents that have not fired for `deadSteps` steps
 * reconstruct what the live ones miss, so they come back instead of staying dead.
 */
import * as tf from '@tensorflow/tfjs';
import { withGrad } from '../backend/grad.ts';
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { Sae, SAE_WEIGHTS, topKRelu, type SaeMetrics, type SaeWeightName } from './sae.ts';

export interface SaeTrainOptions {
  hook: string;
  fingerprint: string;
  latents: number;
  k: number;
  steps: number;
  /** Activation rows per step. */
  batchSize: number;
  lr: number;
  seed: number;
  /** Share of rows held out for the reported metrics. */
  heldOut: number;
  /** Latents the AuxK loss uses (0: off). */
  auxK: number;
  /** Weight of the AuxK loss (the paper: 1/32). */
  auxCoef: number;
  /** A latent that has not fired for this many steps counts as dead for AuxK. */
  deadSteps: number;
  /** Called every `logEvery` steps with the step's losses. */
  onStep?(step: number, m: SaeStepMetrics): void;
  logEvery?: number;
}

/** One step's losses, before the update: normalised MSE (MSE / the data's variance) and AuxK. */
export interface SaeStepMetrics {
  nmse: number;
  aux: number;
  /** Latents counted dead for AuxK at this step. */
  dead: number;
}

/** Activation rows [n, d]. */
export interface ActivationRows {
  X: Float32Array;
  n: number;
  d: number;
}

/** Passes values through; its gradient is zero (the AuxK target is the residual, held fixed). */
const stopGradient = withGrad(([x]) => ({ value: tf.clone(x!), gradFunc: (dy) => [tf.zerosLike(dy)] }));

/** Trains an SAE on `rows`; the returned SAE carries its held-out metrics in `meta.metrics`. */
export function trainSae(rows: ActivationRows, o: SaeTrainOptions): Sae {
  const { n, d, X } = rows;
  if (o.k > o.latents) throw new BonsaiError(`sae: k (${o.k}) must be at most latents (${o.latents})`);
  const nVal = Math.max(1, Math.round(n * o.heldOut));
  if (n - nVal < o.batchSize) throw new BonsaiError(`sae: ${n} activation rows leave ${n - nVal} to train on, fewer than batch_size ${o.batchSize}`, { hint: 'give more data or lower sae.batch_size' });
  const rng = new Rng(o.seed);
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const pick = (idx: number[]) => {
    const out = new Float32Array(idx.length * d);
    idx.forEach((r, i) => out.set(X.subarray(r * d, (r + 1) * d), i * d));
    return { X: out, n: idx.length, d };
  };
  const train = pick(order.slice(nVal));
  const val = pick(order.slice(0, nVal));
  const { mean, variance } = moments(train);
  const sae = initSae(o, d, mean, rng);
  const vars = Object.fromEntries(SAE_WEIGHTS.map((k) => [k, tf.variable(sae.weights[k], true)])) as unknown as Record<SaeWeightName, tf.Variable>;
  sae.dispose();
  const live = new Sae({ hook: o.hook, fingerprint: o.fingerprint, d, latents: o.latents, k: o.k }, vars);
  const opt = tf.train.adam(o.lr);
  const sinceFired = new Int32Array(o.latents);
  const batch = new Float32Array(o.batchSize * d);
  let perm = rng.shuffle(Array.from({ length: train.n }, (_, i) => i));
  let cursor = 0;
  try {
    for (let step = 1; step <= o.steps; step++) {
      if (cursor + o.batchSize > perm.length) (perm = rng.shuffle(perm), (cursor = 0));
      for (let i = 0; i < o.batchSize; i++) batch.set(train.X.subarray(perm[cursor + i]! * d, (perm[cursor + i]! + 1) * d), i * d);
      cursor += o.batchSize;
      const dead = Array.from(sinceFired, (s) => s >= o.deadSteps);
      const nDead = dead.filter(Boolean).length;
      const m = sgdStep(live, vars, opt, batch, o, variance, o.auxK > 0 && nDead > 0 ? { mask: dead, kAux: Math.min(o.auxK, nDead) } : undefined);
      m.fired.forEach((f, j) => (sinceFired[j] = f ? 0 : sinceFired[j]! + 1));
      if (!Number.isFinite(m.nmse)) throw new BonsaiError(`sae: step ${step}: the reconstruction loss is ${m.nmse}`, { hint: 'lower sae.lr' });
      if (o.onStep && (step % (o.logEvery ?? 100) === 0 || step === o.steps)) o.onStep(step, { nmse: m.nmse, aux: m.aux, dead: nDead });
    }
    const out = new Sae({ ...live.meta }, Object.fromEntries(SAE_WEIGHTS.map((k) => [k, tf.clone(vars[k])])) as unknown as Record<SaeWeightName, tf.Tensor>);
    out.meta.metrics = saeMetrics(out, val, rows);
    return out;
  } finally {
    opt.dispose();
    tf.dispose(Object.values(vars));
  }
}

/** One Adam step, then the decoder rows back to unit norm. Returns the losses and which latents fired. */
function sgdStep(sae: Sae, vars: Record<SaeWeightName, tf.Variable>, opt: tf.Optimizer, batch: Float32Array, o: SaeTrainOptions, variance: number, aux?: { mask: boolean[]; kAux: number }) {
  let firedT: tf.Tensor | undefined, nmseT: tf.Tensor | undefined, auxT: tf.Tensor | undefined;
  const xb = tf.tensor2d(batch, [o.batchSize, sae.meta.d]); // [B, d]
  const deadMask = aux && tf.tensor2d(aux.mask.map((v) => (v ? 1 : 0)), [1, o.latents], 'bool'); // [1, m]
  const { value, grads } = opt.computeGradients(() => {
    const pre = sae.preActivations(xb); // [B, m]
    const z = topKRelu(pre, o.k);
    const err = tf.sub(xb, sae.decode(z)); // [B, d]
    const nmse = tf.div(tf.mean(tf.square(err)), variance) as tf.Scalar;
    firedT = tf.keep(tf.any(tf.greater(z, 0), 0)); // [m]
    nmseT = tf.keep(tf.clone(nmse));
    if (!aux) return nmse;
    // AuxK: the top kAux dead latents reconstruct the residual (held fixed), without b_dec.
    const e = stopGradient(err) as tf.Tensor2D;
    const zAux = topKRelu(tf.where(deadMask!, pre, tf.fill(pre.shape, -1e30)) as tf.Tensor2D, aux.kAux); // [B, m]
    const eHat = tf.matMul(zAux, vars.W_dec as tf.Tensor2D); // [B, d]
    const auxLoss = tf.div(tf.sum(tf.square(tf.sub(e, eHat))), tf.add(tf.sum(tf.square(e)), 1e-12));
    auxT = tf.keep(tf.clone(auxLoss));
    return tf.add(nmse, tf.mul(o.auxCoef, auxLoss)) as tf.Scalar;
  }, Object.values(vars));
  opt.applyGradients(grads);
  tf.tidy(() => {
    const W = vars.W_dec; // [m, d]
    W.assign(tf.div(W, tf.add(tf.norm(W, 'euclidean', 1, true), 1e-12)));
  });
  const fired = Array.from(firedT!.dataSync(), (v) => v !== 0);
  const out = { nmse: nmseT!.dataSync()[0]!, aux: auxT ? auxT.dataSync()[0]! : 0, fired };
  tf.dispose([value, xb, firedT!, nmseT!, ...(auxT ? [auxT] : []), ...(deadMask ? [deadMask] : []), ...Object.values(grads)]);
  return out;
}

/** Per-feature mean [d] and the mean per-element variance around it (the nmse denominator). */
function moments(r: ActivationRows): { mean: Float32Array; variance: number } {
  const mean = new Float32Array(r.d);
  for (let i = 0; i < r.n; i++) for (let k = 0; k < r.d; k++) mean[k] += r.X[i * r.d + k]! / r.n;
  let ss = 0;
  for (let i = 0; i < r.n; i++) for (let k = 0; k < r.d; k++) ss += (r.X[i * r.d + k]! - mean[k]!) ** 2;
  return { mean, variance: Math.max(ss / (r.n * r.d), 1e-12) };
}

/** Decoder rows random unit vectors, the encoder their transpose, b_dec the data mean (the paper uses the geometric median). */
function initSae(o: SaeTrainOptions, d: number, mean: Float32Array, rng: Rng): Sae {
  const W = Float32Array.from({ length: o.latents * d }, () => rng.normal());
  for (let j = 0; j < o.latents; j++) {
    const row = W.subarray(j * d, (j + 1) * d);
    const norm = Math.sqrt(row.reduce((a, v) => a + v * v, 0)) || 1;
    row.forEach((v, k) => (row[k] = v / norm));
  }
  const W_dec = tf.tensor2d(W, [o.latents, d]);
  return new Sae({ hook: o.hook, fingerprint: o.fingerprint, d, latents: o.latents, k: o.k }, {
    W_enc: tf.transpose(W_dec), b_enc: tf.zeros([o.latents]), W_dec, b_dec: tf.tensor1d(mean),
  });
}

/** MSE and FVE on the held-out rows; dead latents and L0 over all rows. */
function saeMetrics(sae: Sae, heldOut: ActivationRows, all: ActivationRows, batch = 1024): SaeMetrics {
  const { d } = heldOut;
  const mean = moments(heldOut).mean;
  let sse = 0, sst = 0, l0 = 0;
  const fired = new Uint8Array(sae.meta.latents);
  const pass = (r: ActivationRows, each: (x: Float32Array, z: Float32Array, xh: Float32Array, rows: number) => void) => {
    for (let s = 0; s < r.n; s += batch) {
      const rows = Math.min(batch, r.n - s);
      const x = r.X.subarray(s * d, (s + rows) * d);
      const [z, xh] = tf.tidy(() => {
        const zt = sae.encode(tf.tensor2d(x, [rows, d])) as tf.Tensor2D; // [rows, m]
        return [zt, sae.decode(zt)];
      });
      each(x, z.dataSync() as Float32Array, xh.dataSync() as Float32Array, rows);
      tf.dispose([z, xh]);
    }
  };
  pass(heldOut, (x, _z, xh) => {
    x.forEach((v, i) => ((sse += (v - xh[i]!) ** 2), (sst += (v - mean[i % d]!) ** 2)));
  });
  pass(all, (_x, z) => z.forEach((v, i) => v > 0 && ((fired[i % sae.meta.latents] = 1), l0++)));
  return {
    mse: sse / (heldOut.n * d),
    fve: 1 - sse / Math.max(sst, 1e-12),
    dead_fraction: 1 - fired.reduce((a, b) => a + b, 0) / sae.meta.latents,
    l0: l0 / all.n,
    n: heldOut.n,
  };
}
