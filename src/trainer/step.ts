import { BonsaiError } from '../errors.ts';
import type { GradientTransform, NamedGrads } from '../gradients/transform.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import type { CausalLM } from '../models/model.ts';
import { countTargets, lmLoss, type LmBatch } from './loss.ts';
import type { AdamW } from './optimizer.ts';
import { addGradients, applyGradients, computeGradients } from './seam.ts';

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
