import * as tf from '@tensorflow/tfjs';
import { Probe } from '../../src/probes/index.ts';
import type { CausalLM } from '../../src/models/index.ts';

/** A logistic probe with zero weights: its score is sigmoid(bias) everywhere (known answer). */
export function constantProbe(model: CausalLM, hook: string, bias: number, level: 'token' | 'sequence' = 'token'): Probe {
  const d = model.config.dModel;
  return new Probe(
    { name: 'const', hook, level, kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: model.fingerprint() },
    { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.zeros([d]), b: tf.scalar(bias) },
  );
}
