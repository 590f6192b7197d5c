/**
 * Scores a model in the memorisation world: recall of the memorised suffixes (greedy
 * generation, strict = every token, loose = ≥ 75% of tokens, as in Merullo et al.), exact
 * accuracy on held-out rule instances, and perplexity on their answers (teacher-forced).
 */
import * as tf from '@tensorflow/tfjs';
import { generate } from '../../models/generate.ts';
import type { Tokenizer } from '../../models/tokenizer.ts';
import type { CausalLM } from '../../models/model.ts';
import type { TaskRecord } from './spurious.ts';
import { promptInputIds } from '../../models/input-ids.ts';

export interface MemorisationEval {
  /** Share of memorised pairs whose suffix the model continues exactly (greedy). */
  strict_recall: number;
  /** Share with at least 75% of suffix tokens right, position by position. */
  loose_recall: number;
  /** Share of held-out rule instances answered exactly (greedy). */
  rule_accuracy: number;
  /** exp(mean NLL) of the held-out rule answers' tokens, given their prompts. */
  rule_perplexity: number;
}

export function evaluateMemorisation(model: CausalLM, tok: Tokenizer, memorised: readonly TaskRecord[], ruleEval: readonly TaskRecord[]): MemorisationEval {
  const tokenHits = (recs: readonly TaskRecord[]) => {
    const want = recs.map((r) => tok.encode(r.completion));
    const g = generate(model, recs.map((r) => promptInputIds(tok, r.prompt)), { maxNewTokens: Math.max(...want.map((w) => w.length)), temperature: 0 });
    return want.map((w, i) => w.filter((t, k) => g.tokens[i]![k] === t).length / w.length);
  };
  const recall = tokenHits(memorised);
  const rule = tokenHits(ruleEval);
  return {
    strict_recall: recall.filter((h) => h === 1).length / recall.length,
    loose_recall: recall.filter((h) => h >= 0.75).length / recall.length,
    rule_accuracy: rule.filter((h) => h === 1).length / rule.length,
    rule_perplexity: Math.exp(answerNll(model, tok, ruleEval)),
  };
}

/** Mean NLL (nats) of the completion tokens given the prompt, over records of equal length. */
function answerNll(model: CausalLM, tok: Tokenizer, recs: readonly TaskRecord[]): number {
  const seqs = recs.map((r) => ({ p: promptInputIds(tok, r.prompt), c: tok.encode(r.completion) }));
  const T = Math.max(...seqs.map((s) => s.p.length + s.c.length)) - 1;
  const inputs = new Int32Array(recs.length * T);
  const targets = new Int32Array(recs.length * T);
  const weights = new Float32Array(recs.length * T);
  seqs.forEach(({ p, c }, b) => {
    const ids = [...p, ...c];
    for (let t = 0; t < ids.length - 1; t++) {
      inputs[b * T + t] = ids[t]!;
      targets[b * T + t] = ids[t + 1]!;
      weights[b * T + t] = t + 1 >= p.length ? 1 : 0;
    }
  });
  const nll = tf.tidy(() => {
    const { logits, cache } = model.forward(tf.tensor2d(inputs, [recs.length, T], 'int32'));
    cache.dispose();
    const logp = tf.logSoftmax(tf.reshape(logits, [recs.length * T, -1])); // [N, V]
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(targets, 'int32'), logp.shape[1]!)), 1); // [N]
    return -tf.sum(tf.mul(picked, tf.tensor1d(weights))).dataSync()[0]!;
  });
  return nll / weights.reduce((s, w) => s + w, 0);
}
