/**
 * The public gradient seam: every trainer (SFT, RL, gradient surgery's "other objective",
 * the benches and hand-written loops) computes gradients and applies them through these two
 * calls, so freezing, projections, clipping and the non-finite guard act the same everywhere.
 *
 *   const { loss, grads } = computeGradients(model, () => myLoss(model));
 *   const r = applyGradients(model, grads, { optimizer, transforms, lr, loss });
 *   if (r.nonFinite) …; // skipped: nothing moved
 *
 * createTrainStep (next-token loss over micro-batches: SFT) and createLossStep (any scalar
 * loss: RL) wrap the two calls into one optimizer step.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { applyTransforms, type GradientTransform, type NamedGrads } from '../gradients/transform.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import type { CausalLM } from '../models/model.ts';
import { asTrainingPass, trainableParams } from '../lora/attach.ts';
import { countTargets, lmLoss, type LmBatch } from './loss.ts';
import type { AdamW } from './optimizer.ts';

/**
 * The loss's value and its gradients by parameter path (`blocks.0.attn.W_Q` → gradient),
 * over the model's trainable parameters (its LoRA adapters' when attached: lora/attach.ts).
 * `lossFn` runs inside tf.variableGrads, as a training pass (adapter dropout on), so its
 * intermediates are freed; the caller owns the returned gradients.
 */
export function computeGradients(model: CausalLM, lossFn: () => tf.Scalar): { loss: number; grads: NamedGrads } {
  if (model.frozen) throw new BonsaiError('cannot compute gradients of a frozen copy: its parameters are not trainable');
  const vars: tf.Variable[] = [];
  const pathOf = new Map<string, string>();
  for (const [path, v] of trainableParams(model)) {
    if (!v.trainable) continue;
    vars.push(v);
    pathOf.set(v.name, path);
  }
  const { value, grads: byName } = asTrainingPass(model, () => tf.variableGrads(lossFn, vars));
  const loss = value.dataSync()[0]!;
  value.dispose();
  const grads: NamedGrads = {};
  for (const [name, g] of Object.entries(byName)) grads[pathOf.get(name)!] = g;
  return { loss, grads };
}

export interface ApplyGradientsOptions {
  optimizer: AdamW;
  /** Applied in order after the freeze mask (if a Freezer is installed on the optimizer). */
  transforms?: readonly GradientTransform[];
  /** Learning rate of this update; default the optimizer's `lr`. */
  lr?: number;
  /** The loss the gradients came from: a NaN or infinite loss skips the update too. */
  loss?: number;
  /** False when the transforms' stats will not be logged this step (they may skip computing them). */
  stats?: boolean;
}

export interface ApplyGradientsResult {
  /** `gradients/<name>/<key>` from every transform (the freeze mask's under `gradients/freeze/`). */
  stats: Record<string, number>;
  /** Set when the update was skipped: the parameters whose gradients were NaN or infinite (`(loss)` for the loss). */
  nonFinite?: string[];
}

/**
 * One update from `grads` (consumed: every tensor is freed): unless a gradient or the loss
 * is NaN or infinite, the installed freeze mask, then the transforms in order, then the
 * optimizer. A skipped update moves nothing, not even the optimizer's step count.
 */
export function applyGradients(model: CausalLM, grads: NamedGrads, o: ApplyGradientsOptions): ApplyGradientsResult {
  const bad = nonFiniteGrads(grads);
  if (bad.length || (o.loss !== undefined && !Number.isFinite(o.loss))) {
    // Never apply a broken update: the caller counts skipped steps and decides when to stop.
    tf.dispose(Object.values(grads));
    return { stats: {}, nonFinite: bad.length ? bad : ['(loss)'] };
  }
  const freeze = o.optimizer.freezer?.transform();
  const stages = freeze ? [freeze, ...(o.transforms ?? [])] : (o.transforms ?? []);
  const params = trainableParams(model);
  const out = applyTransforms(stages, grads, { step: o.optimizer.t + 1, params, stats: o.stats ?? true });
  o.optimizer.apply(params, out.grads, o.lr);
  tf.dispose(Object.values(out.grads));
  return { stats: out.stats };
}

/** Paths whose gradient holds a NaN or infinity (one reduction per tensor, one sync). */
export function nonFiniteGrads(grads: NamedGrads): string[] {
  const paths = Object.keys(grads);
  if (!paths.length) return [];
  const sums = tf.tidy(() => tf.stack(paths.map((k) => tf.sum(grads[k]!))));
  const v = sums.dataSync();
  sums.dispose();
  return paths.filter((_k, i) => !Number.isFinite(v[i]!));
}

/** a + b per path; frees both inputs (micro-batch accumulation). */
export function addGradients(a: NamedGrads, b: NamedGrads): NamedGrads {
  const out: NamedGrads = {};
  for (const k of Object.keys(a)) {
    out[k] = tf.add(a[k]!, b[k]!);
    a[k]!.dispose();
    b[k]!.dispose();
  }
  return out;
}

export interface TrainStepOptions {
  model: CausalLM;
  /** With a Freezer installed (`freezer.install(optimizer)`), its mask runs before the transforms. */
  optimizer: AdamW;
  /** Applied in order between computing and applying the gradients. */
  transforms: readonly GradientTransform[];
  /** Forward options for training passes (e.g. interventions); evaluation does not use them. */
  forward?: ForwardOptions;
  /** Tokens per cross-entropy chunk (chunked-ce.ts); default `auto`. */
  ceChunk?: number | 'auto';
}

export interface StepResult {
  /** Token-mean loss over all micro-batches (nats). */
  loss: number;
  /** Targets that counted in the loss. */
  tokens: number;
  /** `gradients/<name>/<key>` from every transform. */
  stats: Record<string, number>;
  /** Set when the step was skipped: the parameters whose gradients were NaN or infinite. */
  nonFinite?: string[];
}

/**
 * One SFT optimizer step on the public seam: gradients of the next-token loss, summed over
 * micro-batches (each normalised by the step's total targets, so the sum is the token
 * mean) → applyGradients (freeze mask, transforms in order, AdamW, non-finite guard).
 */
export function createTrainStep(opts: TrainStepOptions) {
  if (opts.model.frozen) throw new BonsaiError('cannot train a frozen copy'); // said at once, not at the first step
  /** `stats: false` when the step's transform stats will not be logged (they may skip computing them). */
  return function step(micro: LmBatch | LmBatch[], lr?: number, stats = true): StepResult {
    const batches = Array.isArray(micro) ? micro : [micro];
    const tokens = batches.reduce((n, b) => n + countTargets(b), 0);
    let grads: NamedGrads | null = null;
    let loss = 0;
    for (const b of batches) {
      const r = computeGradients(opts.model, () => lmLoss(opts.model, b, { normalizer: tokens, forward: opts.forward, ceChunk: opts.ceChunk }));
      loss += r.loss;
      grads = grads === null ? r.grads : addGradients(grads, r.grads);
    }
    const r = applyGradients(opts.model, grads!, { optimizer: opts.optimizer, transforms: opts.transforms, lr, loss, stats });
    return { loss, tokens, ...r };
  };
}

/**
 * The train step for losses other than next-token cross-entropy (RL): the caller gives a
 * loss function of the policy; computeGradients → applyGradients, as in createTrainStep,
 * so freezing, projections and clipping apply to RL updates too.
 */
export function createLossStep(opts: { model: CausalLM; optimizer: AdamW; transforms: readonly GradientTransform[] }) {
  if (opts.model.frozen) throw new BonsaiError('cannot train a frozen copy'); // said at once, not at the first step
  /** One optimizer step on `lossFn()` (a scalar built from `model`'s variables). */
  return function step(lossFn: () => tf.Scalar, lr?: number, stats = true): StepResult {
    const { loss, grads } = computeGradients(opts.model, lossFn);
    return { loss, tokens: 0, ...applyGradients(opts.model, grads, { optimizer: opts.optimizer, transforms: opts.transforms, lr, loss, stats }) };
  };
}
