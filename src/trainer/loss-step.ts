import type * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { GradientTransform } from '../gradients/transform.ts';
import type { CausalLM } from '../models/model.ts';
import type { AdamW } from './optimizer.ts';
import { applyGradients, computeGradients } from './seam.ts';
import type { StepResult } from './step.ts';

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
