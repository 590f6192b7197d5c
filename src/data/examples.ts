/**
 * Turning token sequences into fixed-length Examples: windows over one long token
 * stream (language modelling), and single prompt/completion sequences (fine-tuning).
 */
import { BonsaiError } from '../errors.ts';
import type { Example } from './types.ts';

/** Throws unless seqLen is a positive integer; every builder needs it. */
export function checkSeqLen(seqLen: number): void {
  if (!Number.isInteger(seqLen) || seqLen < 1) {
    throw new BonsaiError(`seq_len must be a positive integer, got ${seqLen}`);
  }
}

/**
 * Cuts a token stream into non-overlapping windows of seqLen+1 tokens with stride
 * seqLen: window k holds tokens [k·L, k·L+L], so consecutive windows share one boundary
 * token and every token after the first is a target exactly once. A final window
 * shorter than 2 tokens has no target and is dropped; any other short one is padded.
 */
export function windowExamples(tokens: ArrayLike<number>, seqLen: number): Example[] {
  checkSeqLen(seqLen);
  const out: Example[] = [];
  for (let start = 0; start + 1 < tokens.length; start += seqLen) {
    const end = Math.min(start + seqLen + 1, tokens.length);
    const ids = new Int32Array(seqLen + 1); // [L+1], zero padding past `end`
    const lossMask = new Uint8Array(seqLen + 1); // [L+1]
    for (let i = start; i < end; i++) ids[i - start] = tokens[i]!;
    // Position 0 has no context inside the window; it was the previous window's target.
    lossMask.fill(1, 1, end - start);
    out.push({ ids, lossMask });
  }
  return out;
}

/** A prompt/completion example before it is fitted to seqLen. */
export interface Segments {
  /** Context tokens: the model reads them but is not trained to produce them. */
  prompt: number[];
  /** Target tokens (EOS included by the caller): the only ones the loss sees. */
  completion: number[];
}

/**
 * Lays out prompt then completion in one Example, with the loss on completion tokens
 * only. Longer than seqLen+1 → the start is kept (the end is cut), and `truncated` says
 * so; shorter → padded with id 0, mask 0. A completion token at position 0 (empty
 * prompt) cannot be predicted from nothing, so it is not a target.
 */
export function sequenceExample(
  seg: Segments,
  seqLen: number,
): { example: Example; truncated: boolean } {
  checkSeqLen(seqLen);
  const cap = seqLen + 1;
  const total = seg.prompt.length + seg.completion.length;
  const n = Math.min(total, cap);
  const ids = new Int32Array(cap); // [L+1]
  const lossMask = new Uint8Array(cap); // [L+1]
  const p = seg.prompt.length;
  for (let i = 0; i < n; i++) {
    if (i < p) {
      ids[i] = seg.prompt[i]!;
    } else {
      ids[i] = seg.completion[i - p]!;
      lossMask[i] = i > 0 ? 1 : 0;
    }
  }
  return { example: { ids, lossMask }, truncated: total > cap };
}

/** Number of positions with lossMask 1 across examples. */
export function countTargets(examples: readonly Example[]): number {
  let n = 0;
  for (const ex of examples) for (const m of ex.lossMask) n += m;
  return n;
}
