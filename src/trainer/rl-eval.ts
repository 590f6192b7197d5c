/**
 * RL evaluation: the recipe's rewards on held-out prompts (`data.eval`), one rollout each,
 * sampled as in training but from an RNG seeded afresh at every evaluation — the same
 * prompts and the same random draws each time, so the curve moves only with the policy, and
 * training's own rollout stream is never touched.
 */
import * as tf from '@tensorflow/tfjs';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import { scoreRewards } from '../rewards/compose.ts';
import { frozenPass, rewardHooks } from '../rewards/frozen.ts';
import type { Reward } from '../rewards/types.ts';
import { Rng } from '../util/rng.ts';
import { rollout, type PromptItem, type RolloutOptions } from './rollout.ts';

export interface RlEvalOptions {
  policy: CausalLM;
  frozen: CausalLM;
  tokenizer: Tokenizer;
  rewards: readonly Reward[];
  prompts: readonly PromptItem[];
  /** Sampling as in training, less the group size and the RNG (one rollout per prompt, a fresh `seed` stream). */
  rollout: Omit<RolloutOptions, 'G' | 'rng'>;
  seed: number;
  /** Prompts per rollout batch. */
  chunk: number;
}

/** `eval/rewards/<name>/mean` (and total) and `eval/response_length` over every eval prompt. */
export async function evaluateRl(o: RlEvalOptions): Promise<Record<string, number>> {
  const rng = new Rng(o.seed);
  const sums: Record<string, number> = {};
  let n = 0;
  let length = 0;
  for (let at = 0; at < o.prompts.length; at += o.chunk) {
    const items = o.prompts.slice(at, at + o.chunk);
    // Evaluation runs without the training-time insertion: it measures the policy alone.
    const { batch } = rollout(o.policy, o.tokenizer, [...items], { ...o.rollout, insert: undefined, G: 1, rng });
    const frozen = frozenPass(o.frozen, batch, o.rewards);
    const hooks = rewardHooks(o.rewards, 'policy');
    const ids = tf.tensor2d(batch.ids, [batch.R, batch.T], 'int32');
    const pol = hooks.length ? o.policy.forwardHidden(ids, { cache: hooks }) : undefined; // only the hooks are read
    pol?.hidden.dispose();
    try {
      const scored = await scoreRewards(o.rewards, batch, { frozen, policy: pol?.cache });
      for (const [k, v] of Object.entries(scored.metrics)) if (k.endsWith('/mean')) sums[k] = (sums[k] ?? 0) + v * batch.R;
      n += batch.R;
      length += batch.completions.reduce((a, c) => a + c.length, 0);
    } finally {
      tf.dispose([ids, frozen.refLogprobs]);
      frozen.cache.dispose();
      pol?.cache.dispose();
    }
  }
  const out: Record<string, number> = { 'eval/response_length': length / n };
  for (const [k, v] of Object.entries(sums)) out[`eval/${k}`] = v / n;
  return out;
}
