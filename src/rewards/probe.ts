/**
 * The probe reward: a probe's score on the completion tokens, read from activations that
 * are already cached. With `host: frozen` (the default) they come from the frozen copy's
 * forward pass that also gives the reference log-probs, so the reward costs one small
 * product per token. `host: policy` reads the live policy instead: that is the variant a
 * policy can game, by moving its own activations away from what the probe detects while
 * the behaviour stays (The Obfuscation Atlas, arXiv 2602.15515). Use it only to compare.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { tokenFeatures } from '../probes/capture.ts';
import type { Probe } from '../probes/probe.ts';
import type { Reward, RolloutBatch, RewardContext } from './types.ts';

/** How per-token scores become one per rollout; `none` keeps them: a per-token reward. */
export type Aggregate = 'mean' | 'max' | 'any' | 'none';

export interface ProbeRewardOptions {
  name: string;
  weight: number;
  probe: Probe;
  /**
   * How per-token scores become one per rollout; `any` is 1 if any token ≥ threshold. `none`
   * returns sign × the probe's score at every completion token (a per-token reward; whatever
   * the probe's level, it is read at each completion token).
   */
  aggregate: Aggregate;
  /** +1 rewards what the probe detects, −1 penalises it. */
  sign: 1 | -1;
  host: 'frozen' | 'policy';
}

export function probeReward(o: ProbeRewardOptions): Reward & { lastScores?: Float32Array } {
  const { probe } = o;
  const hook = probe.meta.hook;
  return {
    name: o.name,
    weight: o.weight,
    hooks: { host: o.host, hook },
    score(b: RolloutBatch, ctx: RewardContext) {
      const cache = o.host === 'frozen' ? ctx.frozen.cache : ctx.policy;
      if (!cache?.has(hook)) throw new BonsaiError(`reward "${o.name}": activations at ${hook} were not cached on the ${o.host}`);
      const s = tf.tidy(() => probe.score(tokenFeatures(cache.get(hook)))); // [R, T]
      const scores = s.dataSync() as Float32Array;
      s.dispose();
      if (o.aggregate === 'none') {
        return b.completions.map((c, r) => Float32Array.from(scores.subarray(r * b.T + b.promptLens[r]!, r * b.T + b.promptLens[r]! + c.length), (v) => o.sign * v));
      }
      const out = new Float32Array(b.R);
      for (let r = 0; r < b.R; r++) {
        const p0 = b.promptLens[r]!;
        const end = p0 + b.completions[r]!.length;
        // Sequence probes read the last real token; token probes every completion token.
        const from = probe.meta.level === 'sequence' ? end - 1 : p0;
        let acc = 0; // probabilities are ≥ 0, so 0 also starts max and any
        let n = 0;
        for (let t = from; t < end; t++) {
          const v = scores[r * b.T + t]!;
          if (o.aggregate === 'mean') acc += v;
          else if (o.aggregate === 'max') acc = Math.max(acc, v);
          else if (v >= probe.meta.threshold) acc = 1;
          n++;
        }
        out[r] = o.sign * (o.aggregate === 'mean' ? (n ? acc / n : 0) : acc);
      }
      return out;
    },
    dispose: () => probe.dispose(),
  };
}
