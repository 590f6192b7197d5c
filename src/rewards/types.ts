/**
 * The reward seam. A reward reads a batch of rollouts and a context holding the frozen
 * pass (the single frozen-copy forward per rollout batch: reference log-probs and probe
 * activations) and returns one score per rollout — or, a per-token reward, one array per
 * rollout with a score for each of its completion tokens (rewards/scores.ts checks which).
 */
import type * as tf from '@tensorflow/tfjs';
import type { ActivationCache } from '../models/hooks.ts';

/** R rollouts laid out as right-padded rows of prompt + completion tokens. */
export interface RolloutBatch {
  /** [R, T] int32 row-major: prompt then completion, zero-padded. */
  ids: Int32Array;
  R: number;
  T: number;
  promptLens: number[];
  /** The completion tokens of each rollout (sampled and inserted). */
  completions: number[][];
  /** Decoded completions. */
  texts: string[];
  /** The prompt text of each rollout (as given, before tokenization). */
  prompts: string[];
  /** The task's reference answer per rollout, when it has one. */
  answers: Array<string | undefined>;
  /** [R, T-1]: 1 where target position t+1 is a sampled completion token (loss positions). */
  mask: Float32Array;
}

/** The frozen copy's one forward over a rollout batch. */
export interface FrozenPass {
  /** [R, T-1]: log p_ref(ids[t+1] | ids[..t]). Kept; the trainer disposes it. */
  refLogprobs: tf.Tensor2D;
  /** Frozen-copy activations at every hook a probe reward reads, [R, T, ...]. */
  cache: ActivationCache;
}

export interface RewardContext {
  frozen: FrozenPass;
  /** Policy activations, only for `host: policy` probe rewards (the gameable variant). */
  policy?: ActivationCache;
}

/**
 * A reward's output: R scores (one per rollout), or R arrays where the r-th holds one score per
 * completion token of rollout r (`batch.completions[r].length` of them: a per-token reward).
 */
export type RewardScores = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/**
 * One named reward. Scores are per rollout or per completion token; the trainer weighs and
 * sums them (a per-token reward enters the per-rollout total with its sum, and the loss per token).
 */
export interface Reward {
  readonly name: string;
  readonly weight: number;
  /** Hooks it needs cached on the frozen copy (or on the policy, for host: policy). */
  readonly hooks?: { host: 'frozen' | 'policy'; hook: string };
  score(batch: RolloutBatch, ctx: RewardContext): RewardScores | Promise<RewardScores>;
  dispose?(): void;
}
