/**
 * One RL step, read top to bottom: rollouts → ONE frozen pass (reference log-probs and
 * probe activations) → policy pass (old log-probs, entropy, policy activations for the
 * gameable host: policy variant; both no-grad passes run the output head in chunks) → rewards → group advantages → inner epochs of the
 * policy loss + β·KL(k3) through the public gradient seam (computeGradients → applyGradients).
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardOptions } from '../models/hooks.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import { frozenPass, rewardHooks } from '../rewards/frozen.ts';
import { scoreRewards } from '../rewards/compose.ts';
import type { Reward } from '../rewards/types.ts';
import type { createLossStep } from './loss-step.ts';
import type { StepResult } from './step.ts';
import { ceChunkRows } from '../models/chunked-ce.ts';
import { chunkedTokenLogprobs, maskedMean, noGradLogprobs } from '../models/logprobs.ts';
import { k3, tokenMean, type PolicyLoss } from './rl-loss.ts';
import { rollout, type PromptItem, type RolloutOptions } from './rollout.ts';
import { advantagesOf } from './token-advantages.ts';

export interface RlStepOptions {
  policy: CausalLM;
  frozen: CausalLM;
  tokenizer: Tokenizer;
  rewards: readonly Reward[];
  loss: PolicyLoss;
  step: ReturnType<typeof createLossStep>;
  rollout: RolloutOptions;
  /** KL coefficient; 0 turns the penalty off (the reference pass still feeds probe rewards). */
  beta: number;
  scaleByStd: boolean;
  innerEpochs: number;
  /**
   * The recipe's interventions (hooks only), applied to the policy's training passes: the
   * old-log-prob pass and every loss pass, so the PPO ratio compares like with like. Never
   * to the frozen pass, and not to rollout sampling (generation runs as at inference).
   */
  forward?: Pick<ForwardOptions, 'hooks'>;
  /** The recipe's memory settings for the loss passes (chunked-ce.ts, recompute); default auto, off. */
  memory?: { ceChunk: number | 'auto'; recompute: boolean };
}

export interface RlStepResult {
  /** train/*, rewards/* and time/* metrics. */
  metrics: Record<string, number>;
  /** The gradient transforms' `gradients/<name>/<key>` from the step's last update. */
  stats: Record<string, number>;
  /**
   * Set when an update was skipped (NaN or infinite gradients or loss): the tensors named.
   * The step's remaining inner epochs are not run; the loop counts the step as skipped.
   */
  nonFinite?: string[];
}

/** Runs one RL step on `items`; `stats: false` when its transform stats will not be logged. */
export async function rlStep(o: RlStepOptions, items: PromptItem[], lr?: number, stepNo?: number, stats = true): Promise<RlStepResult> {
  const t0 = performance.now();
  const { batch, interventions } = rollout(o.policy, o.tokenizer, items, o.rollout);
  const tGen = performance.now();
  const frozen = frozenPass(o.frozen, batch, o.rewards, o.memory?.ceChunk);
  const ids = tf.tensor2d(batch.ids, [batch.R, batch.T], 'int32');
  const mask = tf.tensor2d(batch.mask, [batch.R, batch.T - 1]);
  const policyHooks = rewardHooks(o.rewards, 'policy');
  // The no-grad policy pass: old log-probs and entropy, the output head chunked as in the loss pass.
  const pol = o.policy.forwardHidden(ids, { hooks: o.forward?.hooks, cache: policyHooks });
  const { logprobs: oldLogprobs, entropy: entropyRows } = noGradLogprobs(o.policy, pol.hidden, ids, ceChunkRows(o.policy.config.vocabSize, o.memory?.ceChunk), true);
  const entropy = maskedMean(entropyRows!, mask);
  tf.dispose([pol.hidden, entropyRows!]);
  try {
    const tR = performance.now();
    const scored = await scoreRewards(o.rewards, batch, { frozen, policy: pol.cache }, stepNo);
    const tRewards = performance.now() - tR;
    // [R, 1], or [R, T-1] when a reward is per token (token-advantages.ts).
    const adv = advantagesOf(scored, batch, o.rollout.G, o.scaleByStd);
    let kl = 0, clipFrac = 0, loss = 0;
    let last: StepResult | undefined;
    for (let e = 0; e < o.innerEpochs; e++) {
      const keep: tf.Tensor[] = [];
      const r = o.step(() => {
        const lp = chunkedTokenLogprobs(o.policy, ids, { hooks: o.forward?.hooks, recompute: o.memory?.recompute }, o.memory?.ceChunk);
        const { loss: pg, clipped } = o.loss.perToken({ logprobs: lp, oldLogprobs, adv });
        const klTok = k3(lp, frozen.refLogprobs);
        keep.push(tf.keep(tokenMean(klTok, mask)), tf.keep(tokenMean(clipped, mask)));
        return tf.add(tokenMean(pg, mask), tf.mul(o.beta, tokenMean(klTok, mask))) as tf.Scalar;
      }, lr, stats);
      [kl, clipFrac] = keep.map((x) => x.dataSync()[0]!) as [number, number];
      tf.dispose(keep);
      loss = r.loss;
      last = r;
      if (r.nonFinite) break;
    }
    adv.dispose();
    const lens = batch.completions.map((c) => c.length);
    const metrics = {
      'train/loss': loss,
      'train/kl': kl,
      'train/clip_frac': clipFrac,
      'train/entropy': entropy,
      'train/response_length': lens.reduce((a, b) => a + b, 0) / lens.length,
      'train/interventions': interventions,
      'time/rollout_s': (tGen - t0) / 1000,
      'time/rewards_s': tRewards / 1000,
      'time/step_s': (performance.now() - t0) / 1000,
      ...scored.metrics,
    };
    return { metrics, stats: last!.stats, nonFinite: last!.nonFinite };
  } finally {
    tf.dispose([ids, mask, oldLogprobs, frozen.refLogprobs]);
    frozen.cache.dispose();
    pol.cache.dispose();
  }
}
