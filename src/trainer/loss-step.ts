import type * as tf from '@tensorflow/tfjs';
import type { GradientTransform } from '../gradients/transform.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { AdamW } from './optimizer.ts';
import { gradientStep, type StepResult } from './step.ts';

/**
 * The train-step seam for losses other than next-token cross-entropy (RL): the caller
 * gives a loss function of the policy; gradients → transforms → AdamW through the same
 * core as createTrainStep, so freezing, projections and clipping apply to RL updates too.
 */
export function createLossStep(opts: { model: HookedTransformer; optimizer: AdamW; transforms: readonly GradientTransform[] }) {
  const core = gradientStep(opts);
  /** One optimizer step on `lossFn()` (a scalar built from `model`'s variables). */
  return function step(lossFn: () => tf.Scalar, lr?: number): StepResult {
    const { loss, grads } = core.gradsOf(lossFn);
    return core.update(grads, loss, 0, lr);
  };
}
