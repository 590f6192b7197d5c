/**
 * The builders of the model-init kinds (init-kinds.ts holds their schemas and checks): a
 * fresh model from `init.config`, or one loaded from a bonsai checkpoint or a Hugging Face
 * folder of any family (`init.hf`, and its alias `init.hf_gpt2`).
 */
import { BonsaiError } from '../errors.ts';
import { build, type Builders } from '../registry/kinds.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { loadHfModel, readHfDecoderConfig } from './families/load.ts';
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

/** The model a recipe asks for: fresh from `init.config`, or loaded from `init.checkpoint` or `init.hf` (`init.hf_gpt2`). */
export function buildModel(recipe: ModelRecipe, tokenizer: Tokenizer): CausalLM {
  const init = recipe.model.init;
  return build(initBuilders, initKindOf(init), initValue(init), recipe, tokenizer);
}

/** A Hugging Face directory's model, its vocabulary checked against the recipe's tokenizer. */
function fromHf(dir: string, tokenizer: Tokenizer): CausalLM {
  const config = readHfDecoderConfig(dir);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new BonsaiError(`model.init.hf: the ${tokenizer.kind} tokenizer has ${tokenizer.vocabSize} ids, more than the model's vocab_size ${config.vocabSize} (${dir}/config.json)`);
  }
  return loadHfModel(dir); // tensor by tensor: the weights are never held twice
}

/** Initial weights for every model-init kind (models/init-kinds.ts). */
const initBuilders: Builders<typeof initKinds, [recipe: ModelRecipe, tokenizer: Tokenizer], CausalLM> = {
  config: (c, recipe, tokenizer) => createModel(configOf(c, tokenizer), recipe.run.seed),
  checkpoint(dir, _recipe, tokenizer) {
    const ckpt = loadCheckpoint(dir, { tokenizer: tokenizer.kind });
    return modelFromValues(ckpt.config, ckpt.weights);
  },
  hf: (dir, _recipe, tokenizer) => fromHf(dir, tokenizer),
  hf_gpt2: (dir, _recipe, tokenizer) => fromHf(dir, tokenizer),
};

/** The recipe's `model.init.config`, camelCased, with the tokenizer's vocabulary filled in. */
export function configFromRecipe(recipe: Pick<ModelRecipe, 'model'>, tokenizer: Tokenizer): LMConfig {
  const c = recipe.model.init.config;
  if (!c) throw new Error('internal: configFromRecipe needs model.init.config');
  return configOf(c, tokenizer);
}
