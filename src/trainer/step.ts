import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { applyTransforms, type GradientTransform, type NamedGrads } from '../gradients/transform.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import { countTargets, lmLoss, type LmBatch } from './loss.ts';
import type { AdamW } from './optimizer.ts';

export interface TrainStepOptions {
  model: HookedTransformer;
  optimizer: AdamW;
  /** Applied in order between computing and applying the gradients. */
  transforms: readonly GradientTransform[];
  /** Forward options for training passes (e.g. interventions); evaluation does not use them. */
  forward?: ForwardOptions;
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
 * The train-step seam: compute gradients (accumulated over micro-batches) → gradient
 * transforms in order → optimizer. Returns a function that runs one optimizer step.
 */
export function createTrainStep(opts: TrainStepOptions) {
  const core = gradientStep(opts);
  /** `stats: false` when the step's transform stats will not be logged (they may skip computing them). */
  return function step(micro: LmBatch | LmBatch[], lr?: number, stats = true): StepResult {
    const batches = Array.isArray(micro) ? micro : [micro];
    const tokens = batches.reduce((n, b) => n + countTargets(b), 0);
    let grads: NamedGrads | null = null;
    let loss = 0;
    for (const b of batches) {
      const r = core.gradsOf(() => lmLoss(opts.model, b, { normalizer: tokens, forward: opts.forward }));
      loss += r.loss;
      grads = grads === null ? r.grads : accumulate(grads, r.grads);
    }
    return core.update(grads!, loss, tokens, lr, stats);
  };
}

/**
 * The seam shared by every trainer: gradients of a loss by parameter path, then — unless
 * a gradient or the loss is NaN or infinite — transforms in order and the optimizer.
 * SFT sums gradsOf over micro-batches; RL (createLossStep) takes one loss function.
 */
export function gradientStep(opts: Pick<TrainStepOptions, 'model' | 'optimizer' | 'transforms'>) {
  const { model, optimizer, transforms } = opts;
  if (model.frozen) throw new BonsaiError('cannot train a frozen copy');
  const vars = [...model.params.values()].filter((v) => v.trainable);
  const pathOf = new Map([...model.params].map(([path, v]) => [v.name, path]));
  return {
    /** The loss's value and its gradients by parameter path (the caller owns them). */
    gradsOf(lossFn: () => tf.Scalar): { loss: number; grads: NamedGrads } {
      const { value, grads: g } = tf.variableGrads(lossFn, vars);
      const loss = value.dataSync()[0]!;
      value.dispose();
      const grads: NamedGrads = {};
      for (const [name, t] of Object.entries(g)) grads[pathOf.get(name)!] = t;
      return { loss, grads };
    },
    /** Transforms and the optimizer on `grads` (consumed), or a skip if anything is non-finite. */
    update(grads: NamedGrads, loss: number, tokens: number, lr?: number, stats = true): StepResult {
      const bad = nonFiniteGrads(grads);
      if (bad.length || !Number.isFinite(loss)) {
        // Never apply a broken update: the caller counts skipped steps and decides when to stop.
        tf.dispose(Object.values(grads));
        return { loss, tokens, stats: {}, nonFinite: bad.length ? bad : ['(loss)'] };
      }
      const out = applyTransforms(transforms, grads, { step: optimizer.t + 1, params: model.params, stats });
      optimizer.apply(model.params, out.grads, lr);
      tf.dispose(Object.values(out.grads));
      return { loss, tokens, stats: out.stats };
    },
  };
}

/** Paths whose gradient holds a NaN or infinity (one reduction per tensor, one sync). */
export function nonFiniteGrads(grads: NamedGrads): string[] {
  const paths = Object.keys(grads);
  const sums = tf.tidy(() => tf.stack(paths.map((k) => tf.sum(grads[k]!))));
  const v = sums.dataSync();
  sums.dispose();
  return paths.filter((_k, i) => !Number.isFinite(v[i]!));
}

/** a + b per path; frees both inputs. */
function accumulate(a: NamedGrads, b: NamedGrads): NamedGrads {
  const out: NamedGrads = {};
  for (const k of Object.keys(a)) {
    out[k] = tf.add(a[k]!, b[k]!);
    a[k]!.dispose();
    b[k]!.dispose();
  }
  return out;
}
