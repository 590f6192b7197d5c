/**
 * Texts → RolloutBatch: what a client posts (prompt, completion, answer) laid out exactly
 * as an RL rollout is (src/trainer/rollout.ts), so a served reward reads the same rows the
 * trainer's would: prompt tokens then completion tokens, right-padded, an empty prompt
 * standing as one EOS token.
 */
import { renderedInputIds } from '../models/input-ids.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { RolloutBatch } from '../rewards/types.ts';

/** One sequence to score, as text. */
export interface ScoreText {
  prompt: string;
  completion: string;
  /** Reference answer (OpenRLHF's `labels`, TRL's dataset column); absent when none. */
  answer?: string;
}

/** A ScoreText tokenized; `promptIds` is never empty (an empty prompt is [EOS], as in rollouts). */
export interface EncodedText extends ScoreText {
  promptIds: number[];
  completionIds: number[];
}

export function encodeText(tok: Tokenizer, t: ScoreText): EncodedText {
  // A chat model's prompt arrives rendered by its template (special-token text included), as
  // the policy read it: with tokenizer hf it is encoded special-aware, with the tokenizer's
  // BOS unless the text already begins with it (models/input-ids.ts): never two.
  const p = renderedInputIds(tok, t.prompt);
  return { ...t, promptIds: p.length ? p : [tok.eosId], completionIds: tok.encode(t.completion) };
}

/** Tokens a sequence occupies in the frozen pass. */
export const seqLength = (e: EncodedText): number => e.promptIds.length + e.completionIds.length;

/** Lays encoded texts out as one right-padded rollout batch [R, T], T = the longest row. */
export function rolloutBatchOf(items: readonly EncodedText[]): RolloutBatch {
  const R = items.length;
  const T = Math.max(1, ...items.map(seqLength));
  const ids = new Int32Array(R * T);
  const mask = new Float32Array(R * (T - 1));
  items.forEach((e, r) => {
    ids.set(e.promptIds, r * T);
    ids.set(e.completionIds, r * T + e.promptIds.length);
    // Target position t predicts ids[t+1]: the completion tokens are the loss positions.
    for (let k = 0; k < e.completionIds.length; k++) mask[r * (T - 1) + e.promptIds.length + k - 1] = 1;
  });
  return {
    ids, R, T,
    promptLens: items.map((e) => e.promptIds.length),
    completions: items.map((e) => e.completionIds),
    texts: items.map((e) => e.completion),
    prompts: items.map((e) => e.prompt),
    answers: items.map((e) => e.answer),
    mask,
  };
}

/**
 * OpenRLHF sends `query` = prompt + response (chat template applied, decoded with special
 * tokens, so left padding may come first) and, in newer versions, the `prompt`. The
 * completion is what follows the prompt's first occurrence in the query (text before it,
 * e.g. decoded padding, is dropped). Without a prompt the whole query is the completion.
 * Returns undefined when the prompt does not occur in the query: scoring the wrong tokens
 * silently would be worse than an error the trainer's logs show.
 */
export function splitQuery(query: string, prompt: string | undefined): { prompt: string; completion: string } | undefined {
  if (prompt === undefined || prompt === '') return { prompt: '', completion: query };
  const at = query.indexOf(prompt);
  if (at < 0) return undefined;
  return { prompt, completion: query.slice(at + prompt.length) };
}
