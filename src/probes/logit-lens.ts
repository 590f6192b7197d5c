/**
 * The logit lens as probe features (`probes[].features: logit_lens`): the frozen model's own
 * output head applied to its final-norm activations, as next-token log-probabilities.
 *
 * Why a probe wants it: "the model knows the answer" shows in the output distribution as one
 * answer with nearly all the mass and every other token far below. That is a peaked read-out
 * of the residual stream through the unembedding and a softmax, which a linear probe on the
 * residual cannot express and an MLP has to learn from few examples; on log-probabilities a
 * logistic probe reads it linearly (the log-probs of the tokens not chosen are very negative
 * when the model is sure). Measured in the hallucination world: docs/results/hallucination.md.
 *
 * The lens is the frozen model's head, not a copy: it is rebuilt from the model a probe is
 * loaded against (whose fingerprint the probe checks), so nothing extra is saved.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';

/** The one hook the lens reads: the final norm's output, which is what the unembedding takes. */
export const LOGIT_LENS_HOOK = 'ln_final.hook_normalized';

/** Throws unless `hook` is the hook a logit-lens probe reads. */
export function checkLogitLensHook(hook: string, where: string): void {
  if (hook !== LOGIT_LENS_HOOK) {
    throw new BonsaiError(`${where}: features: logit_lens reads ${LOGIT_LENS_HOOK} (the output head's input), not ${hook}`, { hint: `set hook: ${LOGIT_LENS_HOOK}` });
  }
}

export class LogitLens {
  /** `model`: the frozen copy the probe reads; not owned (the lens never disposes it). */
  constructor(readonly model: CausalLM) {}

  /** Width of what the lens takes: the model's hidden size. */
  get inputWidth(): number {
    return this.model.config.dModel;
  }

  /** Width of what it gives: one log-probability per vocabulary entry. */
  get width(): number {
    return this.model.config.vocabSize;
  }

  /** Final-norm activations [..., D] → next-token log-probabilities [..., V]. Not tidied. */
  encode(act: tf.Tensor): tf.Tensor {
    const lead = act.shape.slice(0, -1);
    const logits = this.model.unembed(tf.reshape(act, [-1, this.inputWidth]) as tf.Tensor2D); // [N, V]
    return tf.reshape(tf.logSoftmax(logits), [...lead, this.width]);
  }
}
