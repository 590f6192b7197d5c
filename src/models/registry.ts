/**
 * Builds a CausalLM of any family from its config: the one place that maps a family to its
 * class, so tools never name a model class. GPT-2 is `HookedTransformer`; every Hugging Face
 * family is a `FamilyDecoder` configured by its DecoderConfig (families/config.ts maps
 * config.json to it, families/names.ts maps tensor names, families/layout.ts lists paths).
 * Adding a family: its config mapping and tensor names there, and its entry here.
 */
import { FamilyDecoder } from './families/decoder.ts';
import type { LMConfig, ModelFamily } from './lm-config.ts';
import type { CausalLM } from './model.ts';
import type { ParamValues } from './params.ts';
import { HookedTransformer } from './transformer.ts';

interface FamilyBuilder {
  create(config: LMConfig, seed: number): CausalLM;
  fromValues(config: LMConfig, values: ParamValues): CausalLM;
}

const decoder: FamilyBuilder = {
  create: (c, seed) => FamilyDecoder.create(c as Extract<LMConfig, { family: 'llama' }>, seed),
  fromValues: (c, values) => new FamilyDecoder(c as Extract<LMConfig, { family: 'llama' }>, values),
};

const builders: Record<ModelFamily, FamilyBuilder> = {
  gpt2: {
    create: (c, seed) => HookedTransformer.create(c as Extract<LMConfig, { family: 'gpt2' }>, seed),
    fromValues: (c, values) => HookedTransformer.fromValues(c as Extract<LMConfig, { family: 'gpt2' }>, values),
  },
  llama: decoder,
  mistral: decoder,
  qwen2: decoder,
  qwen3: decoder,
  gpt_neox: decoder,
};

/** A freshly initialised model of `config`'s family; the same seed gives the same weights on every backend. */
export function createModel(config: LMConfig, seed: number): CausalLM {
  return builders[config.family].create(config, seed);
}

/** A model from parameter values by path (a checkpoint's weights). Every path of layout.ts's paramSpecs must be present. */
export function modelFromValues(config: LMConfig, values: ParamValues): CausalLM {
  return builders[config.family].fromValues(config, values);
}
