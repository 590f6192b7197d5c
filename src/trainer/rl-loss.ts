/**
 * RL loss components. Advantages and the policy loss are separate, swappable parts (one
 * function each, chosen by the recipe's `kind`), not one string switched on throughout.
 * Every loss is a token mean over the sampled completion tokens of the whole batch.
 */
import * as tf from '@tensorflow/tfjs';
import { build, type Builders, type EntryOf } from '../registry/kinds.ts';
import type { rlLossKinds } from './kinds/rl-loss.ts';

/** GRPO group-relative advantages: rollouts [g·G … g·G+G-1] share a prompt. */
export function groupAdvantages(rewards: Float32Array, G: number, scaleByStd: boolean): Float32Array {
  const A = new Float32Array(rewards.length);
  for (let g = 0; g < rewards.length; g += G) {
    const grp = rewards.subarray(g, g + G);
    const mean = grp.reduce((a, b) => a + b, 0) / grp.length;
    const std = Math.sqrt(grp.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, grp.length - 1));
    // Dr. GRPO drops the std division: it over-weights near-unanimous groups.
    for (let i = 0; i < grp.length; i++) A[g + i] = scaleByStd ? (grp[i]! - mean) / (std + 1e-4) : grp[i]! - mean;
  }
  return A;
}

/** Per-token inputs of a policy loss; all [R, T-1] except adv: [R, 1], or [R, T-1] when a reward is per token. */
export interface PolicyLossInputs {
  logprobs: tf.Tensor2D; // policy, with gradient
  oldLogprobs: tf.Tensor2D; // policy when the rollouts were sampled
  adv: tf.Tensor2D; // [R, 1] (sequence rewards) or [R, T-1] (per-token rewards: token-advantages.ts)
}

/** A policy-gradient loss per token (before masking), plus where clipping was active. */
export interface PolicyLoss {
  readonly kind: string;
  perToken(x: PolicyLossInputs): { loss: tf.Tensor2D; clipped: tf.Tensor2D };
}

/** PPO/GRPO clipped surrogate: −min(ρA, clip(ρ, 1−ε, 1+ε)A). */
export function clippedPg(epsilon: number): PolicyLoss {
  return {
    kind: 'clipped_pg',
    perToken({ logprobs, oldLogprobs, adv }) {
      const ratio = tf.exp(tf.sub(logprobs, oldLogprobs));
      const unclipped = tf.mul(ratio, adv);
      const clippedObj = tf.mul(tf.clipByValue(ratio, 1 - epsilon, 1 + epsilon), adv);
      const loss = tf.neg(tf.minimum(unclipped, clippedObj)) as tf.Tensor2D;
      const clipped = tf.cast(tf.less(clippedObj, unclipped), 'float32') as tf.Tensor2D;
      return { loss, clipped };
    },
  };
}

/**
 * CISPO (MiniMax-M1, the loss RLFR used): clip the importance weight, not the update —
 * −sg(min(ρ, 1+ε_high))·A·log π, so every token keeps a gradient.
 */
export function cispo(epsilonHigh: number): PolicyLoss {
  return {
    kind: 'cispo',
    perToken({ logprobs, oldLogprobs, adv }) {
      // The weight is built from values outside the tape (dataSync'd) so it is a constant.
      const ratio = tf.exp(tf.sub(logprobs, oldLogprobs));
      const w = tf.tensor(ratio.dataSync(), ratio.shape);
      const loss = tf.neg(tf.mul(tf.mul(tf.minimum(w, 1 + epsilonHigh), adv), logprobs)) as tf.Tensor2D;
      const clipped = tf.cast(tf.greater(w, 1 + epsilonHigh), 'float32') as tf.Tensor2D;
      return { loss, clipped };
    },
  };
}

/** k3 estimator of KL(π‖π_ref) per token: e^{ref−lp} − (ref−lp) − 1 ≥ 0, unbiased, low variance. */
export function k3(logprobs: tf.Tensor2D, refLogprobs: tf.Tensor2D): tf.Tensor2D {
  const d = tf.sub(refLogprobs, logprobs);
  return tf.sub(tf.sub(tf.exp(d), d), 1) as tf.Tensor2D;
}

/** Token mean of x over mask [R, T-1]. */
export function tokenMean(x: tf.Tensor, mask: tf.Tensor2D): tf.Scalar {
  return tf.div(tf.sum(tf.mul(x, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/** A policy loss for every kind of trainer.loss (kinds/rl-loss.ts); a kind without one does not compile. */
export const rlLossBuilders: Builders<typeof rlLossKinds, [], PolicyLoss> = {
  clipped_pg: (l) => clippedPg(l.epsilon),
  cispo: (l) => cispo(l.epsilon_high),
};

/** The policy loss a recipe's trainer.loss names. */
export function buildRlLoss(entry: EntryOf<typeof rlLossKinds>): PolicyLoss {
  return build(rlLossBuilders, entry.kind, entry);
}
