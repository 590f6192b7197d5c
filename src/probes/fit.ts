/**
 * Probe training: class-balanced logistic loss with L2, full-batch Adam, a seeded held-out
 * split and early stopping on held-out loss (the best weights are kept). Small data and
 * small probes, so full batches are both fastest and deterministic.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { build, type Builders } from '../registry/kinds.ts';
import { Rng } from '../util/rng.ts';
import type { probeKinds } from './kinds.ts';
import type { Features, ProbeLevel } from './capture.ts';
import { bestF1Threshold, probeMetrics } from './metrics.ts';
import { Probe, type ProbeKindSpec, weightNames } from './probe.ts';

export interface FitOptions {
  name: string;
  hook: string;
  level: ProbeLevel;
  kind: ProbeKindSpec;
  fingerprint: string;
  seed?: number;
  /** Share of rows held out for early stopping and the reported metrics. */
  heldOut?: number;
  maxEpochs?: number;
  patience?: number;
  lr?: number;
}

/** One epoch's outcome: the training objective (logistic loss + L2) before the update; `nonFinite`: the update was not applied. */
export interface ProbeEpoch {
  loss: number;
  nonFinite?: string[];
}

/**
 * A probe fit in progress, one full-batch epoch at a time, for a driver to sequence:
 * `epoch()` takes one Adam step on the training rows, `validate()` measures the held-out
 * loss, keeps the best weights and says whether patience has run out, `finish()` builds the
 * probe from the best weights. `dispose()` always, `finish()` or not.
 */
export interface ProbeFit {
  readonly maxEpochs: number;
  epoch(): ProbeEpoch;
  validate(): { loss: number; stop: boolean };
  finish(): Probe;
  dispose(): void;
}

/** Sets up a probe fit on feature rows: the seeded held-out split, the initial weights, Adam. */
export function startProbeFit(f: Features, o: FitOptions): ProbeFit {
  const { n, d } = f;
  const pos = f.y.reduce((a, b) => a + b, 0);
  if (n < 4 || pos === 0 || pos === n) throw new BonsaiError(`probe "${o.name}": training needs both classes (got ${pos} positive of ${n})`);
  const order = new Rng(o.seed ?? 0).shuffle(Array.from({ length: n }, (_, i) => i));
  const nVal = Math.max(2, Math.round(n * (o.heldOut ?? 0.2)));
  const pick = (idx: number[]) => {
    const X = new Float32Array(idx.length * d);
    idx.forEach((r, i) => X.set(f.X.subarray(r * d, (r + 1) * d), i * d));
    return { X, y: Float32Array.from(idx, (r) => f.y[r]!), n: idx.length };
  };
  const tr = pick(order.slice(nVal));
  const va = pick(order.slice(0, nVal));

  const init = initWeights(tr, d, o.kind, o.seed ?? 0);
  const vars = Object.fromEntries(Object.entries(init).map(([k, t]) => [k, tf.variable(t, !['mu', 'sigma'].includes(k))]));
  const keyOf = new Map(Object.entries(vars).map(([k, v]) => [v.name, k]));
  tf.dispose(Object.values(init));
  const probe = new Probe({ name: o.name, hook: o.hook, level: o.level, kind: o.kind, d, threshold: 0.5, metrics: {} as never, fingerprint: o.fingerprint }, vars);
  const Xtr = tf.tensor2d(tr.X, [tr.n, d]); // [Ntr, D]
  const ytr = tf.tensor1d(tr.y);
  const Xva = tf.tensor2d(va.X, [va.n, d]); // [Nva, D]
  const yva = tf.tensor1d(va.y);
  // Class balance: each class carries half the loss whatever its share of the rows.
  const wtr = classWeights(tr.y);
  const wva = classWeights(va.y);
  const opt = tf.train.adam(o.lr ?? 0.02);
  const l2 = o.kind.l2;
  const penalised = Object.entries(vars).filter(([k]) => ['w', 'W1', 'w2'].includes(k)).map(([, v]) => v);
  const loss = (X: tf.Tensor, y: tf.Tensor, w: tf.Tensor) =>
    tf.tidy(() => tf.div(tf.sum(tf.mul(tf.losses.sigmoidCrossEntropy(y, probe.logits(X), undefined, 0, tf.Reduction.NONE), w)), tf.sum(w)) as tf.Scalar);
  const patience = o.patience ?? 25;
  let best = Infinity;
  let bestVals: Record<string, Float32Array> = {};
  let since = 0;
  return {
    maxEpochs: o.maxEpochs ?? 400,
    epoch() {
      // What opt.minimize does, with a look at the gradients before they are applied.
      const { value, grads } = opt.computeGradients(() => tf.add(loss(Xtr, ytr, wtr), tf.mul(l2, tf.addN(penalised.map((v) => tf.sum(tf.square(v)))))) as tf.Scalar);
      const names = Object.keys(grads);
      const finite = tf.tidy(() => tf.stack([tf.all(tf.isFinite(value)), ...names.map((k) => tf.all(tf.isFinite(grads[k]!)))]).dataSync());
      const l = value.dataSync()[0]!;
      value.dispose();
      const bad = ['(loss)', ...names.map((v) => keyOf.get(v) ?? v)].filter((_, i) => !finite[i]);
      if (bad.length === 0) opt.applyGradients(grads as tf.NamedTensorMap as never); // as minimize() passes them
      tf.dispose(Object.values(grads));
      return bad.length === 0 ? { loss: l } : { loss: l, nonFinite: bad };
    },
    validate() {
      const vt = loss(Xva, yva, wva);
      const v = vt.dataSync()[0]!;
      vt.dispose();
      if (v < best - 1e-5) {
        best = v;
        since = 0;
        bestVals = Object.fromEntries(Object.entries(vars).map(([k, t]) => [k, t.dataSync() as Float32Array]));
      } else since++;
      return { loss: v, stop: since >= patience };
    },
    finish() {
      const weights = Object.fromEntries(weightNames(o.kind).map((k) => [k, tf.tensor(bestVals[k]!, vars[k]!.shape)]));
      const out = new Probe({ ...probe.meta }, weights);
      out.meta.threshold = bestF1Threshold(out.scoreRows(tr.X, tr.n), tr.y);
      out.meta.metrics = probeMetrics(out.scoreRows(va.X, va.n), va.y, out.meta.threshold);
      return out;
    },
    dispose() {
      probe.dispose();
      opt.dispose();
      tf.dispose([Xtr, ytr, Xva, yva, wtr, wva]);
    },
  };
}

/**
 * Trains a probe on feature rows, synchronously; metrics are measured on the held-out rows.
 * The same epochs as `fitProbeLoop` (probes/fit-loop.ts) without the loop driver's tracker
 * logging and interrupt; a non-finite epoch throws at once (full-batch: a skipped epoch
 * would repeat identically).
 */
export function fitProbe(f: Features, o: FitOptions): Probe {
  const fit = startProbeFit(f, o);
  try {
    for (let epoch = 1; epoch <= fit.maxEpochs; epoch++) {
      const e = fit.epoch();
      if (e.nonFinite) throw nonFiniteProbe(o.name, epoch, e);
      if (fit.validate().stop) break;
    }
    return fit.finish();
  } finally {
    fit.dispose();
  }
}

export const nonFiniteHint = 'lower the probe learning rate or raise its l2; check the features for NaN';

function nonFiniteProbe(name: string, epoch: number, e: ProbeEpoch): BonsaiError {
  return new BonsaiError(`probe "${name}": epoch ${epoch}: the loss is ${e.loss}; NaN or infinite gradients (${e.nonFinite!.join(', ')})`, { hint: nonFiniteHint });
}

function classWeights(y: Float32Array): tf.Tensor1D {
  const pos = y.reduce((a, b) => a + b, 0);
  const neg = y.length - pos;
  return tf.tensor1d(Array.from(y, (v) => (v > 0.5 ? 0.5 / Math.max(pos, 1) : 0.5 / Math.max(neg, 1))));
}

function initWeights(tr: { X: Float32Array; n: number }, d: number, kind: ProbeKindSpec, seed: number): Record<string, tf.Tensor> {
  const mu = new Float32Array(d), sigma = new Float32Array(d);
  for (let i = 0; i < tr.n; i++) for (let k = 0; k < d; k++) mu[k] += tr.X[i * d + k]! / tr.n;
  for (let i = 0; i < tr.n; i++) for (let k = 0; k < d; k++) sigma[k] += (tr.X[i * d + k]! - mu[k]!) ** 2 / tr.n;
  const std = sigma.map((v) => Math.sqrt(v) + 1e-6);
  const base = { mu: tf.tensor1d(mu), sigma: tf.tensor1d(std) };
  return { ...base, ...build(probeInitBuilders, kind.kind, kind, d, seed) };
}

/** Initial weights (beyond the standardisation) for every probe kind (probes/kinds.ts). */
const probeInitBuilders: Builders<typeof probeKinds, [d: number, seed: number], Record<string, tf.Tensor>> = {
  logistic: (_k, d) => ({ w: tf.zeros([d]), b: tf.zeros([]) }),
  mlp(kind, d, seed) {
    const rng = new Rng(seed + 1);
    const W1 = Float32Array.from({ length: d * kind.hidden }, () => rng.normal() * Math.sqrt(2 / d));
    return { W1: tf.tensor2d(W1, [d, kind.hidden]), b1: tf.zeros([kind.hidden]), w2: tf.tensor1d(Float32Array.from({ length: kind.hidden }, () => rng.normal() * Math.sqrt(1 / kind.hidden))), b2: tf.zeros([]) };
  },
};
