import { BonsaiError } from '../errors.ts';
import { evalBatches, loadDataset, splitTrainEval, unigramEntropyBits, type Dataset, type Example, type UnigramEntropy } from '../data/index.ts';
import { clipTransform, type GradientTransform } from '../gradients/index.ts';
import { modelConfig, type ModelConfig } from '../models/config.ts';
import { createTokenizer, type Tokenizer } from '../models/tokenizer.ts';
import { HookedTransformer } from '../models/transformer.ts';
import { loadHfGpt2 } from '../models/hf-gpt2.ts';
import type { Recipe } from '../recipe/schema.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { buildSurgery, type SurgeryContext } from './surgery.ts';
import type { LmBatch } from './loss.ts';
import { AdamW } from './optimizer.ts';
import type { ScheduleOptions } from './schedule.ts';

/** The model a recipe asks for: fresh from `init.config`, or loaded from `init.checkpoint` or `init.hf_gpt2`. */
export function buildModel(recipe: Recipe, tokenizer: Tokenizer): HookedTransformer {
  const init = recipe.model.init;
  if ('checkpoint' in init && init.checkpoint) {
    const ckpt = loadCheckpoint(init.checkpoint, { tokenizer: tokenizer.kind });
    return HookedTransformer.fromValues(ckpt.config, ckpt.weights);
  }
  if ('hf_gpt2' in init && init.hf_gpt2) {
    if (tokenizer.kind !== 'gpt2') throw new BonsaiError(`model.init.hf_gpt2 needs the gpt2 tokenizer, the recipe asks for ${tokenizer.kind}`);
    return loadHfGpt2(init.hf_gpt2).model;
  }
  return HookedTransformer.create(configFromRecipe(recipe, tokenizer), recipe.run.seed);
}

/** The recipe's `model.init.config`, camelCased, with the tokenizer's vocabulary filled in. */
export function configFromRecipe(recipe: Recipe, tokenizer: Tokenizer): ModelConfig {
  const c = recipe.model.init.config;
  if (!c) throw new Error('internal: configFromRecipe needs model.init.config');
  const vocabSize = c.vocab_size ?? tokenizer.vocabSize;
  if (vocabSize < tokenizer.vocabSize) {
    throw new BonsaiError(`model.init.config.vocab_size (${vocabSize}) is smaller than the ${tokenizer.kind} tokenizer's vocabulary (${tokenizer.vocabSize})`);
  }
  return modelConfig({
    vocabSize,
    dModel: c.d_model,
    nLayers: c.n_layers,
    nHeads: c.n_heads,
    dMlp: c.d_mlp,
    nCtx: c.n_ctx,
    tiedEmbeddings: c.tied_embeddings,
    layerNormEps: c.layer_norm_eps,
    initStd: c.init_std,
  });
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
    switch (g.kind) {
      case 'clip':
        return clipTransform(g.max_norm, name);
      default:
        if (!ctx) throw new Error(`internal: gradients kind ${g.kind} needs the model`);
        return buildSurgery(g, name, { recipe, ...ctx });
    }
  });
}

/** The fields of a trainer section (sft or rl) that set the optimizer and the lr schedule. */
type OptimizedTrainer = Pick<Recipe['trainer'], 'optimizer' | 'schedule'>;

/** AdamW as a trainer section describes it. */
export function buildOptimizer(t: OptimizedTrainer): AdamW {
  const o = t.optimizer;
  return new AdamW({ lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
}

/** The trainer section's schedule, in lrAt's terms. */
export function scheduleOf(t: OptimizedTrainer): ScheduleOptions {
  return { kind: t.schedule.kind, warmupSteps: t.schedule.warmup_steps, minLrRatio: t.schedule.min_lr_ratio };
}
