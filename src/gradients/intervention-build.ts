/**
 * Builders of the intervention kinds (gradients/intervention-kinds.ts): one per kind, which
 * the compiler enforces. Each gives a training-pass hook and the tensors it keeps.
 */
import type * as tf from '@tensorflow/tfjs';
import type { HookFn } from '../models/hooks.ts';
import type { CausalLM } from '../models/model.ts';
import type { Builders } from '../registry/kinds.ts';
import { loadDirections } from './directions-file.ts';
import type { interventionKinds } from './intervention-kinds.ts';
import { ablateHook, checkWidth, hookWidth, steerHook } from './interventions.ts';

/** What an intervention adds to the training pass: its hook, and the tensors to dispose after the run. */
export interface BuiltIntervention {
  fn: HookFn;
  kept: tf.Tensor[];
}

/** The directions file of an intervention, checked against its hook's width (validation checked it too; this guards the API). */
function directionsFor(model: CausalLM, hook: string, path: string, where: string) {
  const file = loadDirections(path, 'activation');
  checkWidth(hook, hookWidth(model.config, hook), file.width, `${where}.directions (${path}, computed at ${file.hook})`);
  return file;
}

/** A hook for every intervention kind; `where` names the entry in errors. */
export const interventionBuilders: Builders<typeof interventionKinds, [model: CausalLM, where: string], BuiltIntervention> = {
  ablate(iv, model, where) {
    const file = directionsFor(model, iv.hook, iv.directions, where);
    const { fn, q } = ablateHook(file.vectors.slice(0, iv.top_k ?? file.vectors.length));
    return { fn, kept: [q] };
  },
  steer(iv, model, where) {
    const file = directionsFor(model, iv.hook, iv.directions, where);
    const { fn, v } = steerHook(file.vectors[0]!, iv.coef, iv.positions && { positions: iv.positions, nCtx: model.config.nCtx });
    return { fn, kept: [v] };
  },
};
