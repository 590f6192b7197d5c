import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { applyTransforms, type GradientTransform, type NamedGrads } from '../gradients/transform.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { AdamW } from './optimizer.ts';
import { nonFiniteGrads, type StepResult } from './step.ts';

/**
 * The train-step seam for losses other than next-token cross-entropy (RL): the caller
 * gives a loss function of the policy; gradients → transforms → AdamW exactly as in
 * createTrainStep, so freezing, projections and clipping apply to RL updates too.
 */
export function createLossStep(opts: { model: HookedTransformer; optimizer: AdamW; transforms: readonly GradientTransform[] }) {
  const { model, optimizer, transforms } = opts;
  if (model.frozen) throw new BonsaiError('cannot train a frozen copy');
  const vars = [...model.params.values()].filter((v) => v.trainable);
  const pathOf = new Map([...model.params].map(([path, v]) => [v.name, path]));

  /** One optimizer step on `lossFn()` (a scalar built from `model`'s variables). */
  return function step(lossFn: () => tf.Scalar, lr?: number): StepResult {
    const { value, grads: g } = tf.variableGrads(lossFn, vars);
    const loss = value.dataSync()[0]!;
    value.dispose();
    const grads: NamedGrads = {};
    for (const [name, t] of Object.entries(g)) grads[pathOf.get(name)!] = t;
    const bad = nonFiniteGrads(grads);
    if (bad.length || !Number.isFinite(loss)) {
      tf.dispose(Object.values(grads));
      return { loss, tokens: 0, stats: {}, nonFinite: bad.length ? bad : ['(loss)'] };
    }
    const out = applyTransforms(transforms, grads, { step: optimizer.t + 1, params: model.params });
    optimizer.apply(model.params, out.grads, lr);
    tf.dispose(Object.values(out.grads));
    return { loss, tokens: 0, stats: out.stats };
  };
}
