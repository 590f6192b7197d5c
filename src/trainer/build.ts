import { BonsaiError } from '../errors.ts';
import { evalBatches, loadDataset, splitTrainEval, unigramEntropyBits, type Dataset, type Example, type UnigramEntropy } from '../data/index.ts';
import type { GradientTransform } from '../gradients/index.ts';
import type { LMConfig } from '../models/lm-config.ts';
import { configOf, initKindOf, initValue, type initKinds } from '../models/init-kinds.ts';
import { createTokenizer, type Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import { createModel, modelFromValues } from '../models/registry.ts';
import { readHfCheckpoint } from '../models/families/load.ts';
import type { Recipe } from '../recipe/schema.ts';
import { loadCheckpoint } from './checkpoint.ts';
import type { SurgeryContext } from './surgery.ts';
import { gradientBuilders } from '../gradients/builders.ts';
import { build, type Builders } from '../recipe/registry.ts';
import type { LmBatch } from './loss.ts';
import { AdamW } from './optimizer.ts';
import type { optimizerKinds } from './kinds/optimizer.ts';
import type { ScheduleOptions } from './schedule.ts';

/** The model a recipe asks for: fresh from `init.config`, or loaded from `init.checkpoint` or `init.hf` (`init.hf_gpt2`). */
export function buildModel(recipe: Pick<Recipe, 'model' | 'run'>, tokenizer: Tokenizer): CausalLM {
  const init = recipe.model.init;
  return build(initBuilders, initKindOf(init), initValue(init), recipe, tokenizer);
}

/** A Hugging Face directory's model, its vocabulary checked against the recipe's tokenizer. */
function fromHf(dir: string, tokenizer: Tokenizer): CausalLM {
  const { config, values } = readHfCheckpoint(dir);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new BonsaiError(`model.init.hf: the ${tokenizer.kind} tokenizer has ${tokenizer.vocabSize} ids, more than the model's vocab_size ${config.vocabSize} (${dir}/config.json)`);
  }
  return modelFromValues(config, values);
}

/** Initial weights for every model-init kind (models/init-kinds.ts). */
const initBuilders: Builders<typeof initKinds, [recipe: Pick<Recipe, 'model' | 'run'>, tokenizer: Tokenizer], CausalLM> = {
  config: (c, recipe, tokenizer) => createModel(configOf(c, tokenizer), recipe.run.seed),
  checkpoint(dir, _recipe, tokenizer) {
    const ckpt = loadCheckpoint(dir, { tokenizer: tokenizer.kind });
    return modelFromValues(ckpt.config, ckpt.weights);
  },
  hf: (dir, _recipe, tokenizer) => fromHf(dir, tokenizer),
  hf_gpt2: (dir, _recipe, tokenizer) => fromHf(dir, tokenizer),
};

/** The recipe's `model.init.config`, camelCased, with the tokenizer's vocabulary filled in. */
export function configFromRecipe(recipe: Pick<Recipe, 'model'>, tokenizer: Tokenizer): LMConfig {
  const c = recipe.model.init.config;
  if (!c) throw new Error('internal: configFromRecipe needs model.init.config');
  return configOf(c, tokenizer);
}

export interface RunData {
  train: Example[];
  eval: Example[];
  /** Fixed eval batches (same every evaluation, so curves are comparable). */
  evalBatches: LmBatch[];
  seqLen: number;
  trainStats: Dataset['stats'];
  /** Unigram entropy of the training targets: the bar a language model must clear. */
  unigram: UnigramEntropy;
}

/** Loads train (and eval, or a held-out split of train) as fixed-length examples. */
export function buildData(recipe: Recipe, tokenizer: Tokenizer, nCtx: number): RunData {
  const seqLen = recipe.data.seq_len ?? nCtx;
  if (seqLen > nCtx) throw new BonsaiError(`data.seq_len (${seqLen}) exceeds the model's context (${nCtx})`);
  const train = loadDataset(recipe.data.train, tokenizer, seqLen);
  let trainEx = train.examples;
  let evalEx: Example[];
  if (recipe.data.eval) evalEx = loadDataset(recipe.data.eval, tokenizer, seqLen).examples;
  else ({ train: trainEx, eval: evalEx } = splitTrainEval(train.examples, recipe.data.eval_fraction, recipe.run.seed));
  const batchSize = recipe.trainer.batch_size;
  return {
    train: trainEx,
    eval: evalEx,
    evalBatches: evalEx.length ? evalBatches(evalEx, batchSize, recipe.trainer.kind === 'sft' ? recipe.trainer.eval.batches : 8) : [],
    seqLen,
    trainStats: train.stats,
    unigram: unigramEntropyBits(trainEx),
  };
}

/**
 * The recipe's `gradients` list as transforms, in order, each named uniquely. Transforms
 * that compute gradients of their own (project_out from data, pcgrad, observe) need the
 * model and tokenizer in `ctx`.
 */
export function buildTransforms(recipe: Recipe, ctx?: Omit<SurgeryContext, 'recipe'>): GradientTransform[] {
  const seen = new Map<string, number>();
  return recipe.gradients.map((g) => {
    const n = seen.get(g.kind) ?? 0;
    seen.set(g.kind, n + 1);
    const name = n === 0 ? g.kind : `${g.kind}_${n}`;
    return build(gradientBuilders, g.kind, g, name, ctx && { recipe, ...ctx });
  });
}

/** The fields of a trainer section (sft or rl) that set the optimizer and the lr schedule. */
type OptimizedTrainer = Pick<Recipe['trainer'], 'optimizer' | 'schedule'>;

/** AdamW as a trainer section describes it. */
export function buildOptimizer(t: OptimizedTrainer): AdamW {
  return build(optimizerBuilders, t.optimizer.kind, t.optimizer);
}

/** An optimizer for every optimizer kind (kinds/optimizer.ts). */
const optimizerBuilders: Builders<typeof optimizerKinds, [], AdamW> = {
  adamw: (o) => new AdamW({ lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay }),
};

/** The trainer section's schedule, in lrAt's terms. */
export function scheduleOf(t: OptimizedTrainer): ScheduleOptions {
  return { kind: t.schedule.kind, warmupSteps: t.schedule.warmup_steps, minLrRatio: t.schedule.min_lr_ratio };
}
