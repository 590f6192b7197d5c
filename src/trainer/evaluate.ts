import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from '../models/model.ts';
import { countTargets, lmLoss, type LmBatch } from './loss.ts';

export interface EvalResult {
  /** Token-mean cross-entropy, nats. */
  loss: number;
  perplexity: number;
  tokens: number;
}

/**
 * Token-mean loss over fixed batches, with no hooks: interventions are a training-time
 * tool and stay off at evaluation unless a caller passes them explicitly.
 */
export function evaluate(model: CausalLM, batches: readonly LmBatch[]): EvalResult {
  let total = 0;
  let tokens = 0;
  for (const b of batches) {
    const n = countTargets(b);
    if (n === 0) continue;
    const loss = tf.tidy(() => lmLoss(model, b, { normalizer: 1 }));
    total += loss.dataSync()[0]!;
    loss.dispose();
    tokens += n;
  }
  const loss = tokens ? total / tokens : NaN;
  return { loss, perplexity: Math.exp(loss), tokens };
}
