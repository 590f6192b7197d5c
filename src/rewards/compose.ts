/**
 * Scores a rollout batch with every reward and sums them by weight. Each reward's output
 * is checked: a throw, a NaN/Infinity or the wrong number of scores is an error naming
 * the reward — a broken reward is never silently zeroed, since RL would then quietly
 * optimise the others.
 */
import { BonsaiError } from '../errors.ts';
import type { Reward, RewardContext, RolloutBatch } from './types.ts';

export interface ScoredRewards {
  /** Weighted sum per rollout [R]. */
  total: Float32Array;
  /** Each reward's raw scores [R], by name. */
  byName: Record<string, Float32Array>;
  /** `rewards/<name>/mean|std` and `rewards/total/mean|std`. */
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
  const metrics: Record<string, number> = {};
  for (const r of rewards) {
    let raw: ArrayLike<number>;
    try {
      raw = await r.score(batch, ctx);
    } catch (e) {
      if (e instanceof BonsaiError && e.message.startsWith(`reward "${r.name}"`)) throw new BonsaiError(`${at}${e.message}`, { cause: e });
      throw new BonsaiError(`${at}reward "${r.name}" threw: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    if (!raw || typeof raw.length !== 'number') throw new BonsaiError(`${at}reward "${r.name}" returned ${typeof raw}, not an array of ${batch.R} scores`);
    if (raw.length !== batch.R) throw new BonsaiError(`${at}reward "${r.name}" returned ${raw.length} scores for ${batch.R} rollouts`);
    const s = Float32Array.from(raw as ArrayLike<number>, Number);
    const bad = s.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new BonsaiError(`${at}reward "${r.name}" returned ${raw[bad]} for rollout ${bad} (scores must be finite numbers)`);
    byName[r.name] = s;
    for (let i = 0; i < batch.R; i++) total[i]! += r.weight * s[i]!;
    const { mean, std } = meanStd(s);
    metrics[`rewards/${r.name}/mean`] = mean;
    metrics[`rewards/${r.name}/std`] = std;
  }
  const { mean, std } = meanStd(total);
  metrics['rewards/total/mean'] = mean;
  metrics['rewards/total/std'] = std;
  return { total, byName, metrics };
}
