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
}

/**
 * The train-step seam: compute gradients (accumulated over micro-batches) → gradient
 * transforms in order → optimizer. Returns a function that runs one optimizer step.
 */
export function createTrainStep(opts: TrainStepOptions) {
  const { model, optimizer, transforms } = opts;
  if (model.frozen) throw new BonsaiError('cannot train a frozen copy');
  const vars = [...model.params.values()].filter((v) => v.trainable);
  const pathOf = new Map([...model.params].map(([path, v]) => [v.name, path]));

  return function step(micro: LmBatch | LmBatch[], lr?: number): StepResult {
    const batches = Array.isArray(micro) ? micro : [micro];
    const tokens = batches.reduce((n, b) => n + countTargets(b), 0);
    let grads: NamedGrads | null = null;
    let loss = 0;
    for (const b of batches) {
      const { value, grads: g } = tf.variableGrads(() => lmLoss(model, b, { normalizer: tokens, forward: opts.forward }), vars);
      loss += value.dataSync()[0]!;
      value.dispose();
      const byPath: NamedGrads = {};
      for (const [name, t] of Object.entries(g)) byPath[pathOf.get(name)!] = t;
      grads = grads === null ? byPath : accumulate(grads, byPath);
    }
    const out = applyTransforms(transforms, grads!, { step: optimizer.t + 1, params: model.params });
    optimizer.apply(model.params, out.grads, lr);
    tf.dispose(Object.values(out.grads));
    return { loss, tokens, stats: out.stats };
  };
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
