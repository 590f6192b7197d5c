/**
 * Putting adapters on a model and taking the model apart again, written against the model
 * interface's members (`params`, `weightTransform`, `frozen`, `fingerprint`, `frozenCopy`),
 * never a model class, so every family gets LoRA the same way.
 *
 *   attachLora(model, adapters)  model.linearTransform ← adapters.linear (the factored layer),
 *                                model.weightTransform ← adapters.transform (any other read);
 *                                base variables become untrainable, so no optimizer can move them
 *   trainableParams(model)       what training updates: the adapters when attached, else params
 *   frozenReference(model)       RL's frozen reference / probe host: with adapters, a view of
 *                                the same model that reads the base weights (no second copy);
 *                                without, `model.frozenCopy()` as before
 */
import type * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { fingerprintOf } from '../models/fingerprint.ts';
import type { LoraAdapters } from './adapters.ts';

/** The members of a model LoRA uses (CONTRACT.md's CausalLM has them all). */
export interface LoraHost {
  readonly params: Map<string, tf.Variable>;
  readonly frozen: boolean;
  weightTransform?: (path: string, w: tf.Variable) => tf.Tensor;
  linearTransform?: (path: string, x: tf.Tensor2D, w: tf.Variable, b?: tf.Tensor1D) => tf.Tensor2D | undefined;
  fingerprint(): string;
  valuesSync(): Map<string, Float32Array>;
  frozenCopy(): unknown;
  dispose(): void;
}

const attached = new WeakMap<object, LoraAdapters>();

/** Routes `model`'s forward through `adapters` and makes the base weights untrainable. */
export function attachLora(model: LoraHost, adapters: LoraAdapters): void {
  if (model.frozen) throw new BonsaiError('cannot put LoRA adapters on a frozen copy');
  if (attached.has(model) || model.weightTransform || model.linearTransform) throw new BonsaiError('this model already has a weight transform (LoRA adapters attached twice?)');
  model.weightTransform = adapters.transform;
  model.linearTransform = adapters.linear;
  for (const v of model.params.values()) v.trainable = false;
  attached.set(model, adapters);
}

/** Undoes attachLora: the forward reads the variables again, which are trainable again. The caller disposes the adapters. */
export function detachLora(model: LoraHost): void {
  if (!attached.has(model)) return;
  model.weightTransform = undefined;
  model.linearTransform = undefined;
  for (const v of model.params.values()) v.trainable = true;
  attached.delete(model);
}

/** The adapters attached to `model`, if any. */
export function adaptersOf(model: object): LoraAdapters | undefined {
  return attached.get(model);
}

/** The variables training updates: the adapters' when attached (freezing globs, transforms and AdamW state then name adapter paths), else the model's own. */
export function trainableParams(model: { params: Map<string, tf.Variable> }): Map<string, tf.Variable> {
  return attached.get(model)?.params ?? model.params;
}

/** Runs `fn` as a training pass: adapter dropout is on inside it (and only there). */
export function asTrainingPass<T>(model: object, fn: () => T): T {
  const a = attached.get(model);
  if (!a) return fn();
  a.training = true;
  try {
    return fn();
  } finally {
    a.training = false;
  }
}

/**
 * The frozen reference of `model`. With adapters attached it is a view of the same model
 * with its weight transform switched off: it reads the base variables, which no optimizer
 * can change (attachLora made them untrainable and the trainer only updates adapters), so
 * it keeps a frozen copy's promise without a second copy of the weights. Its fingerprint is
 * the base's, taken now; disposing it frees nothing (the model owns the weights).
 * Without adapters: `model.frozenCopy()`.
 */
export function frozenReference<M extends LoraHost>(model: M): M {
  if (!attached.has(model)) return model.frozenCopy() as M;
  const fingerprint = fingerprintOf(model.valuesSync());
  const view = Object.create(model) as M;
  Object.defineProperties(view, {
    frozen: { value: true },
    weightTransform: { value: undefined, writable: false },
    linearTransform: { value: undefined, writable: false },
    fingerprint: { value: () => fingerprint },
    dispose: { value: () => {} },
  });
  return view;
}
