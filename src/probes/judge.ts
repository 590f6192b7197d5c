/**
 * A judge: a causal LM prompted to label text, read from its next-token logits — the
 * alternative a probe on the frozen pass is compared against (bench/probe_vs_judge.ts).
 * The judge reads a query (the text, then a mark), and its score is
 * logit(yes) − logit(no) at the query's last position: > 0 says "yes".
 *
 * bonsai's models are small and trained from scratch, so none follows a labelling
 * instruction zero-shot; the judge is taught the format by a short SFT on lines this module
 * writes from a probe's own training data (`{prompt, completion, label}`), so the judge and
 * the probe learn from the same labelled examples.
 *
 * Sequence level (one label per text): the query is the text and the mark. Token level
 * (one label per token): one query per token, the text up to and including that token and
 * the mark: as a causal probe reads token t from its prefix only, so does the judge — at the
 * price of a forward pass per token (bonsai has no KV cache to share the prefixes).
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';

/** The labelling format: the mark that asks for a label, and the two label strings (one token each). */
export interface JudgeFormat {
  mark: string;
  yes: string;
  no: string;
}

/** Hallucination world: the answer's newline ends the text, so no mark is needed. */
export const SEQUENCE_JUDGE: JudgeFormat = { mark: '', yes: 'Y', no: 'N' };
/** PII world: the mark is byte 0x1E (record separator), which no PII text contains. */
export const TOKEN_JUDGE: JudgeFormat = { mark: '\u001e', yes: 'Y', no: 'N' };

type LabelledLine = { prompt: string; completion: string; label: number };

/** SFT lines for a sequence-level judge: the whole text (prompt + completion) then the mark → the label. */
export function sequenceJudgeLines(rows: LabelledLine[], f: JudgeFormat): Array<{ prompt: string; completion: string }> {
  return rows.map((r) => ({ prompt: r.prompt + r.completion + f.mark, completion: r.label ? f.yes : f.no }));
}

/**
 * SFT lines for a token-level judge: one per completion token, the text up to and including
 * that token then the mark → the line's label. Needs a tokenizer whose token prefixes decode
 * back to the same tokens (the byte tokenizer on ASCII text); anything else is refused.
 */
export function tokenJudgeLines(rows: LabelledLine[], tok: Tokenizer, f: JudgeFormat): Array<{ prompt: string; completion: string }> {
  return rows.flatMap((r, line) => {
    const p = tok.encode(r.prompt);
    const ids = [...p, ...tok.encode(r.completion)];
    return ids.slice(p.length).map((_, k) => {
      const prefix = tok.decode(ids.slice(0, p.length + k + 1));
      if (tok.encode(prefix).length !== p.length + k + 1) throw new BonsaiError(`judge data line ${line + 1}: a token prefix of ${JSON.stringify(r.prompt + r.completion)} does not re-encode to itself; token-level judge lines need the byte tokenizer on ASCII text`);
      return { prompt: prefix + f.mark, completion: r.label ? f.yes : f.no };
    });
  });
}

/** The single token id of a label string; an error if it is not exactly one token. */
export function labelId(tok: Tokenizer, s: string): number {
  const ids = tok.encode(s);
  if (ids.length !== 1) throw new BonsaiError(`judge label ${JSON.stringify(s)} is ${ids.length} tokens; it must be exactly one`);
  return ids[0]!;
}

/** One query per token of `ids`: the prefix up to and including it, then the mark. */
export function tokenQueries(ids: number[], mark: number[]): number[][] {
  return ids.map((_, t) => [...ids.slice(0, t + 1), ...mark]);
}

/**
 * logit(yes) − logit(no) at the last position of each query, in batches of queries of
 * similar length (sorted, so little of a batch is padding; right-padded: a causal model's
 * last real position never sees the padding). A query longer than the model's context keeps
 * its last nCtx tokens.
 */
export function judgeScores(judge: CausalLM, queries: number[][], yes: number, no: number, batchSize = 32): Float32Array {
  const out = new Float32Array(queries.length);
  const nCtx = judge.config.nCtx;
  const fit = queries.map((q, i) => {
    if (q.length === 0) throw new BonsaiError(`judge query ${i} is empty`);
    return q.length > nCtx ? q.slice(q.length - nCtx) : q;
  });
  const order = fit.map((_, i) => i).sort((a, b) => fit[a]!.length - fit[b]!.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const batch = idx.map((i) => fit[i]!);
    const T = Math.max(...batch.map((q) => q.length));
    const ids = new Int32Array(batch.length * T);
    batch.forEach((q, j) => ids.set(q, j * T));
    const diff = tf.tidy(() => {
      const { logits, cache } = judge.forward(tf.tensor2d(ids, [batch.length, T], 'int32')); // [B, T, V]
      cache.dispose();
      const V = logits.shape[2];
      const last = tf.gather(tf.reshape(logits, [batch.length * T, V]), tf.tensor1d(batch.map((q, j) => j * T + q.length - 1), 'int32')); // [B, V]
      const pair = tf.gather(last, tf.tensor1d([yes, no], 'int32'), 1); // [B, 2]
      return tf.reshape(tf.sub(tf.slice(pair, [0, 0], [-1, 1]), tf.slice(pair, [0, 1], [-1, 1])), [-1]); // [B]
    });
    const v = diff.dataSync();
    diff.dispose();
    idx.forEach((i, j) => (out[i] = v[j]!));
  }
  return out;
}
