/**
 * The frozen pass: ONE forward of the frozen copy over a rollout batch gives both the
 * reference log-probs (for the KL term) and the activations every frozen-host probe reward
 * reads, so a probe reward adds a small product per token, never another model call.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';
import { ceChunkRows } from '../models/chunked-ce.ts';
import { noGradLogprobs } from '../models/logprobs.ts';
import type { FrozenPass, Reward, RolloutBatch } from './types.ts';

/** Hooks the rewards need cached on `host`. */
export function rewardHooks(rewards: readonly Reward[], host: 'frozen' | 'policy'): string[] {
  return [...new Set(rewards.flatMap((r) => (r.hooks?.host === host ? [r.hooks.hook] : [])))];
}

/**
 * The frozen pass over a rollout batch. The reference log-probs come from the hidden states,
 * the output head run `ceChunk` rows at a time (chunked-ce.ts's setting; auto by default), so
 * the [R, T, V] logits never exist at once.
 */
export function frozenPass(frozen: CausalLM, batch: RolloutBatch, rewards: readonly Reward[], ceChunk: number | 'auto' = 'auto'): FrozenPass {
  if (!frozen.frozen) throw new BonsaiError('internal: the reference pass must run on a frozen copy');
  const hooks = rewardHooks(rewards, 'frozen');
  const ids = tf.tensor2d(batch.ids, [batch.R, batch.T], 'int32');
  const { hidden, cache } = frozen.forwardHidden(ids, { cache: hooks }); // [R, T, D]
  const { logprobs: refLogprobs } = noGradLogprobs(frozen, hidden, ids, ceChunkRows(frozen.config.vocabSize, ceChunk));
  tf.dispose([ids, hidden]);
  return { refLogprobs, cache };
}
