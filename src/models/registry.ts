/**
 * Builds a CausalLM of any family from its config, so tools never name a model class: every
 * family runs on the one shared decoder (decoder.ts), configured by its flags.
 */
import { HookedTransformer } from './decoder.ts';
import type { LMConfig } from './lm-config.ts';
import type { CausalLM } from './model.ts';
import type { ParamValues } from './params.ts';

/** A freshly initialised model of `config`'s family; the same seed gives the same weights on every backend. */
export function createModel(config: LMConfig, seed: number): CausalLM {
  return HookedTransformer.create(config, seed);
}

/** A model from parameter values by path (a checkpoint's weights). Every path of layout.ts's paramSpecs must be present. */
export function modelFromValues(config: LMConfig, values: ParamValues): CausalLM {
  return HookedTransformer.fromValues(config, values);
}
