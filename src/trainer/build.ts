import { BonsaiError } from '../errors.ts';
import { evalBatches, loadDataset, splitTrainEval, unigramEntropyBits, type Dataset, type Example, type UnigramEntropy } from '../data/index.ts';
import type { GradientTransform } from '../gradients/index.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import { surgeryContext } from './surgery.ts';
import { gradientBuilders } from '../gradients/builders.ts';
import { build, type Builders } from '../registry/kinds.ts';
import type { LmBatch } from './loss.ts';
import { AdamW } from './optimizer.ts';
import type { optimizerKinds } from './kinds/optimizer.ts';
import type { ScheduleOptions } from './schedule.ts';

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
export function buildTransforms(recipe: Recipe, ctx?: { model: CausalLM; tokenizer: Tokenizer; seqLen: number }): GradientTransform[] {
  const surgery = ctx && surgeryContext({ recipe, ...ctx });
  const seen = new Map<string, number>();
  return recipe.gradients.map((g) => {
    const n = seen.get(g.kind) ?? 0;
    seen.set(g.kind, n + 1);
    const name = n === 0 ? g.kind : `${g.kind}_${n}`;
    return build(gradientBuilders, g.kind, g, name, surgery);
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
