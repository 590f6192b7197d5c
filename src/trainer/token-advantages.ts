/**
 * Advantages when some rewards are per token (docs/per-token-rewards.md has the rule and why).
 *
 * A_{i,k} = A^grpo_i + (r_{i,k} − μ_g) / σ_g
 *
 *  - A^grpo_i: GRPO's group advantage of rollout i's TOTAL reward (sequence-level scores plus
 *    each per-token reward's sum over the completion; groupAdvantages, unchanged). Every token
 *    of the rollout gets it — including the token that chose to start, say, a leak, which no
 *    per-token score marks;
 *  - r_{i,k}: the weighted per-token rewards at completion token k;
 *  - μ_g: the mean of r over every completion token of the group's G rollouts (a group
 *    baseline per token, as GRPO's is per sequence), so a token is pushed up or down by how it
 *    compares with the group's typical token;
 *  - σ_g: with scale_by_std, the std of those token rewards (+1e-4), else 1.
 *
 * A group where every token scores the same gets no token term, as GRPO gives a group with
 * equal rewards no advantage. The token term is what moves the offending tokens themselves.
 */
import * as tf from '@tensorflow/tfjs';
import type { ScoredRewards } from '../rewards/compose.ts';
import type { RolloutBatch } from '../rewards/types.ts';
import { groupAdvantages } from './rl-loss.ts';

/**
 * Per-token advantages [R, T-1] from the totals [R] and the weighted per-token rewards
 * [R][completion length]. Entry p0+k−1 of row i is completion token k (the position that
 * predicts it); other entries hold A^grpo_i, which the loss's mask drops.
 */
export function tokenAdvantages(total: Float32Array, tokenRewards: readonly Float32Array[], batch: Pick<RolloutBatch, 'R' | 'T' | 'promptLens'>, G: number, scaleByStd: boolean): Float32Array {
  const { R, T } = batch;
  const W = T - 1;
  const seq = groupAdvantages(total, G, scaleByStd);
  const out = new Float32Array(R * W);
  for (let g0 = 0; g0 < R; g0 += G) {
    const group = tokenRewards.slice(g0, g0 + G);
    let n = 0, sum = 0;
    for (const x of group) for (const v of x) (n++, sum += v);
    const mean = n ? sum / n : 0;
    let sq = 0;
    for (const x of group) for (const v of x) sq += (v - mean) ** 2;
    const scale = scaleByStd ? Math.sqrt(sq / Math.max(1, n - 1)) + 1e-4 : 1;
    group.forEach((x, j) => {
      const i = g0 + j;
      out.fill(seq[i]!, i * W, (i + 1) * W);
      x.forEach((v, k) => (out[i * W + batch.promptLens[i]! + k - 1] = seq[i]! + (v - mean) / scale));
    });
  }
  return out;
}

/**
 * The advantage tensor a policy loss multiplies: [R, 1] from the weighted total when every
 * reward is sequence-level (GRPO as before), [R, T-1] per token when some reward is per token.
 */
export function advantagesOf(scored: ScoredRewards, batch: Pick<RolloutBatch, 'R' | 'T' | 'promptLens'>, G: number, scaleByStd: boolean): tf.Tensor2D {
  if (!scored.tokenTotal) return tf.tensor2d(groupAdvantages(scored.total, G, scaleByStd), [batch.R, 1]);
  return tf.tensor2d(tokenAdvantages(scored.total, scored.tokenTotal, batch, G, scaleByStd), [batch.R, batch.T - 1]);
}
