/**
 * The abstention reward: a knowledge probe on the FROZEN copy pays for abstaining and charges
 * for answering, as RLFR pays a retraction by its probe's score ("probe score × cheap check").
 *
 * The probe is read once per rollout, at one completion token (`at`: by default the first,
 * e.g. the answer's leading space, where a model about to answer has decided whether it knows;
 * the probe is trained there, reading question + that token). Its score s ∈ [0, 1] says "the
 * model does not know this". With τ the probe's threshold (or `threshold`):
 *
 *   abstention (the completion matches `abstain`):   s − τ
 *   retraction (matches `retract`, when given):      s − τ − retract_cost
 *   anything else (a claim):                         τ − s
 *
 * so where the probe says the model knows (s < τ) a claim pays and an abstention costs, and the
 * other way round where it does not. Every rollout of a prompt reads the same activations (the
 * prompt's, on the frozen copy), so within a GRPO group the reward only separates what the
 * rollouts said — nothing the policy does to its own activations moves it.
 *
 * `per_token: true` spreads the value over the completion's tokens (each gets value / length):
 * a per-token reward on the answer span (docs/per-token-rewards.md); its sum is the same value.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { Probe } from '../probes/probe.ts';
import type { Reward, RolloutBatch, RewardContext } from './types.ts';

export interface AbstentionRewardOptions {
  name: string;
  weight: number;
  /** A probe whose score is "the model does not know" (1) vs "knows" (0). */
  probe: Probe;
  /** Completion token whose activations the probe reads (0: the first). */
  at: number;
  /** Matches an abstention. */
  abstain: RegExp;
  /** Matches a claim followed by a retraction (paid as an abstention, less `retractCost`). */
  retract?: RegExp;
  retractCost: number;
  /** τ; default: the probe's own threshold. */
  threshold?: number;
  perToken: boolean;
}

/** One value per rollout from the probe score and what the rollout said. */
export function abstentionValue(s: number, text: string, o: Pick<AbstentionRewardOptions, 'abstain' | 'retract' | 'retractCost'>, tau: number): number {
  if (o.abstain.test(text)) return s - tau;
  if (o.retract?.test(text)) return s - tau - o.retractCost;
  return tau - s;
}

export function abstentionReward(o: AbstentionRewardOptions): Reward & { lastScores?: Float32Array } {
  const { probe } = o;
  const hook = probe.meta.hook;
  const tau = o.threshold ?? probe.meta.threshold;
  const out: Reward & { lastScores?: Float32Array } = {
    name: o.name,
    weight: o.weight,
    hooks: { host: 'frozen', hook },
    score(b: RolloutBatch, ctx: RewardContext) {
      const cache = ctx.frozen.cache;
      if (!cache.has(hook)) throw new BonsaiError(`reward "${o.name}": activations at ${hook} were not cached on the frozen copy`);
      const rows = b.completions.map((c, r) => {
        if (c.length <= o.at) throw new BonsaiError(`reward "${o.name}": rollout ${r} has ${c.length} completion tokens; the probe reads completion token ${o.at}`, { hint: 'lower `at`, or check that rollouts are not cut short (max_new_tokens)' });
        return r * b.T + b.promptLens[r]! + o.at;
      });
      // Only the R read positions go through the probe (a logit-lens probe unembeds just these).
      const s = tf.tidy(() => {
        const act = cache.get(hook);
        const flat = tf.reshape(act, [b.R * b.T, -1]); // [R·T, F]
        return probe.score(tf.gather(flat, tf.tensor1d(rows, 'int32'))); // [R]
      });
      const scores = s.dataSync() as Float32Array;
      s.dispose();
      out.lastScores = scores;
      const values = b.texts.map((t, r) => abstentionValue(scores[r]!, t, o, tau));
      if (!o.perToken) return values;
      return b.completions.map((c, r) => new Float32Array(c.length).fill(values[r]! / c.length));
    },
    dispose: () => probe.dispose(),
  };
  return out;
}
