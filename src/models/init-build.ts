/**
 * The builders of the model-init kinds (init-kinds.ts holds their schemas and checks): a
 * fresh model from `init.config`, or one loaded from a bonsai checkpoint, a Hugging Face
 * GPT-2 folder or a Hugging Face decoder folder.
 */
import { BonsaiError } from '../errors.ts';
import { build, type Builders } from '../registry/kinds.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { loadHfDecoder, readHfDecoderConfig } from './families/load.ts';
import { loadHfGpt2 } from './hf-gpt2.ts';
import { configOf, initKindOf, initValue, type InitEntry, type initKinds } from './init-kinds.ts';
import type { LMConfig } from './lm-config.ts';
import type { CausalLM } from './model.ts';
import { createModel, modelFromValues } from './registry.ts';
import type { Tokenizer } from './tokenizer.ts';

/** The recipe fields a model is built from. */
export interface ModelRecipe {
  model: { init: InitEntry };
  run: { seed: number };
}

/** The model a recipe asks for: fresh from `init.config`, or loaded from `init.checkpoint`, `init.hf_gpt2` or `init.hf`. */
export function buildModel(recipe: ModelRecipe, tokenizer: Tokenizer): CausalLM {
  const init = recipe.model.init;
  return build(initBuilders, initKindOf(init), initValue(init), recipe, tokenizer);
}

/** Initial weights for every model-init kind (models/init-kinds.ts). */
const initBuilders: Builders<typeof initKinds, [recipe: ModelRecipe, tokenizer: Tokenizer], CausalLM> = {
  config: (c, recipe, tokenizer) => createModel(configOf(c, tokenizer), recipe.run.seed),
  checkpoint(dir, _recipe, tokenizer) {
    const ckpt = loadCheckpoint(dir, { tokenizer: tokenizer.kind });
    return modelFromValues(ckpt.config, ckpt.weights);
  },
  hf_gpt2(dir, _recipe, tokenizer) {
    if (tokenizer.kind !== 'gpt2') throw new BonsaiError(`model.init.hf_gpt2 needs the gpt2 tokenizer, the recipe asks for ${tokenizer.kind}`);
    return loadHfGpt2(dir).model;
  },
  hf(dir, _recipe, tokenizer) {
    const config = readHfDecoderConfig(dir);
    if (tokenizer.vocabSize > config.vocabSize) {
      throw new BonsaiError(`model.init.hf: the ${tokenizer.kind} tokenizer has ${tokenizer.vocabSize} ids, more than the model's vocab_size ${config.vocabSize} (${dir}/config.json)`);
    }
    return loadHfDecoder(dir); // tensor by tensor: the weights are never held twice
  },
};

/** The recipe's `model.init.config`, camelCased, with the tokenizer's vocabulary filled in. */
export function configFromRecipe(recipe: Pick<ModelRecipe, 'model'>, tokenizer: Tokenizer): LMConfig {
  const c = recipe.model.init.config;
  if (!c) throw new Error('internal: configFromRecipe needs model.init.config');
  return configOf(c, tokenizer);
}
