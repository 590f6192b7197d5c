/**
 * Scores a rollout batch with every reward and sums them by weight. Each reward's output
 * is checked (scores.ts): a throw, a NaN/Infinity or the wrong number of scores is an error
 * naming the reward (and the rollout) — a broken reward is never silently zeroed, since RL
 * would then quietly optimise the others. Sequence-level and per-token rewards mix: a
 * per-token reward counts in the per-rollout totals with its sum over the completion, and
 * keeps its per-token scores for the per-token advantages (trainer/token-advantages.ts).
 */
import { BonsaiError } from '../errors.ts';
import { checkScores, tokenStats } from './scores.ts';
import type { Reward, RewardContext, RolloutBatch } from './types.ts';

export interface ScoredRewards {
  /** Weighted sum per rollout [R]: sequence scores plus each per-token reward's sum over the completion. */
  total: Float32Array;
  /** Each reward's raw scores [R], by name (a per-token reward: its sum over the completion). */
  byName: Record<string, Float32Array>;
  /** Each per-token reward's raw scores [R][completion length], by name. */
  tokensByName: Record<string, Float32Array[]>;
  /** Weighted sum of the per-token rewards at each completion token [R][completion length]; absent when none is per-token. */
  tokenTotal?: Float32Array[];
  /** `rewards/<name>/mean|std`, `rewards/total/mean|std`, and per-token rewards' `rewards/<name>/token_mean|std|min|max`. */
  metrics: Record<string, number>;
}

export function meanStd(xs: ArrayLike<number>): { mean: number; std: number } {
  const n = xs.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i]! / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i]! - m) ** 2 / n;
  return { mean: m, std: Math.sqrt(v) };
}

export async function scoreRewards(rewards: readonly Reward[], batch: RolloutBatch, ctx: RewardContext, step?: number): Promise<ScoredRewards> {
  const at = step === undefined ? '' : `step ${step}: `;
  const total = new Float32Array(batch.R);
  const byName: Record<string, Float32Array> = {};
  const tokensByName: Record<string, Float32Array[]> = {};
  let tokenTotal: Float32Array[] | undefined;
  const metrics: Record<string, number> = {};
  for (const r of rewards) {
    let raw: unknown;
    try {
      raw = await r.score(batch, ctx);
    } catch (e) {
      if (e instanceof BonsaiError && e.message.startsWith(`reward "${r.name}"`)) throw new BonsaiError(`${at}${e.message}`, { cause: e });
      throw new BonsaiError(`${at}reward "${r.name}" threw: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    const checked = checkScores(r.name, raw, batch, at);
    const s = checked.kind === 'sequence' ? checked.scores : checked.sums;
    byName[r.name] = s;
    for (let i = 0; i < batch.R; i++) total[i]! += r.weight * s[i]!;
    if (checked.kind === 'token') {
      tokensByName[r.name] = checked.scores;
      tokenTotal ??= batch.completions.map((c) => new Float32Array(c.length));
      checked.scores.forEach((row, i) => row.forEach((v, k) => (tokenTotal![i]![k]! += r.weight * v)));
      Object.assign(metrics, tokenStats(r.name, checked.scores));
    }
    const { mean, std } = meanStd(s);
    metrics[`rewards/${r.name}/mean`] = mean;
    metrics[`rewards/${r.name}/std`] = std;
  }
  const { mean, std } = meanStd(total);
  metrics['rewards/total/mean'] = mean;
  metrics['rewards/total/std'] = std;
  return { total, byName, tokensByName, tokenTotal, metrics };
}
