import { adaptersOf, trainableParams } from '../lora/attach.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import { ceChunkRows } from '../models/chunked-ce.ts';
import { backendMemoryLimit, checkStepFits, HEADROOM, rlSettings } from './memory-budget.ts';
import { formatBytes, type StepShape } from './memory-estimate.ts';

/**
 * The recipe's step shape, checked against `memory.budget_mb` or the backend's limit
 * (memory-budget.ts): throws the "settings that fit" error, or returns the log line
 * with the estimate (undefined where the backend's limit is unknown and none is set).
 */
export function checkRecipeStepFits(recipe: Recipe, model: CausalLM, backend: string, seqLen: number): string | undefined {
  const shape = stepShapeOf(recipe, model, seqLen);
  const mb = recipe.memory.budget_mb;
  const limit = mb !== undefined ? { bytes: mb * 1e6, what: 'memory.budget_mb' } : backendMemoryLimit(backend);
  if (!limit) return undefined;
  const est = checkStepFits(shape, limit);
  return `memory: a step needs about ${formatBytes(est.peak)} of the ${formatBytes(limit.bytes * HEADROOM)} planned (${limit.what}, less headroom)`;
}

/**
 * The RL step's check, before the first step (prepareRl in rl.ts): its loss pass is an SFT step over
 * batch_size × group_size rollout rows of up to `longestPrompt` + max_new_tokens tokens, and
 * the frozen reference holds a second copy of the weights (none under LoRA: the reference is
 * the base with its adapters off). The no-grad passes and the rollouts' KV cache need less
 * than the loss pass (they keep no activations for a backward pass).
 */
export function checkRlStepFits(recipe: Recipe, model: CausalLM, backend: string, longestPrompt: number): string | undefined {
  const t = recipe.trainer;
  if (t.kind !== 'rl') throw new Error('internal: checkRlStepFits needs an rl trainer');
  const seqLen = Math.min(model.config.nCtx, longestPrompt + t.max_new_tokens);
  const sft = stepShapeOf(recipe, model, seqLen);
  const shape = { ...sft, batchSize: t.batch_size * t.group_size, params: sft.params * (adaptersOf(model) ? 1 : 2) };
  const mb = recipe.memory.budget_mb;
  const limit = mb !== undefined ? { bytes: mb * 1e6, what: 'memory.budget_mb' } : backendMemoryLimit(backend);
  if (!limit) return undefined;
  const est = checkStepFits(shape, limit, rlSettings(t.group_size, longestPrompt));
  return `memory: an RL step needs about ${formatBytes(est.peak)} of the ${formatBytes(limit.bytes * HEADROOM)} planned (${limit.what}, less headroom)`;
}

/** The shapes and settings of one SFT micro-batch step of this recipe on this model. */
export function stepShapeOf(recipe: Recipe, model: CausalLM, seqLen: number): StepShape {
  const c = model.config;
  let trainable = 0;
  // Under LoRA only the adapters train (and hold gradients and optimizer state).
  for (const v of trainableParams(model).values()) if (v.trainable) trainable += v.size;
  // ...but each forward re-forms every adapted weight as W + ΔW and keeps it for the backward.
  let adaptedWeights = 0;
  for (const path of adaptersOf(model)?.paths() ?? []) adaptedWeights += model.params.get(path)?.size ?? 0;
  return {
    vocabSize: c.vocabSize,
    dModel: c.dModel,
    dMlp: c.dMlp,
    nHeads: c.nHeads,
    nLayers: c.nLayers,
    params: model.numParams(),
    trainableParams: trainable,
    batchSize: recipe.trainer.batch_size,
    seqLen,
    gradAccum: recipe.trainer.kind === 'sft' ? recipe.trainer.grad_accum : 1,
    ceChunkRows: ceChunkRows(c.vocabSize, recipe.memory.ce_chunk),
    recompute: recipe.memory.recompute,
    nKvHeads: c.nKvHeads,
    dHead: c.dHead,
    gatedMlp: c.mlp.gated,
    rope: c.positions === 'rope',
    extraNormWidth: (c.normPlacement === 'pre' ? 0 : 2 * c.dModel) + (c.qkNorm === 'none' ? 0 : (c.nHeads + c.nKvHeads) * c.dHead),
    adaptedWeights,
  };
}
