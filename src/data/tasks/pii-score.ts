/**
 * Scoring token-level PII detection against the PII world's exact spans.
 *
 * Token F1: over every token of every text, flagged (score ≥ threshold) vs gold (the token
 * overlaps a span). Span F1 (exact match): a predicted span is a maximal run of consecutive
 * flagged tokens; a gold span is the run of tokens that overlap it. A gold span is found when
 * some predicted run covers exactly its tokens — all of them flagged, and neither the token
 * just before nor the one just after flagged (nothing outside bleeds in). Precision = found /
 * predicted runs, recall = found / gold spans.
 */

/** Counts for F1; precision and recall are 0 (not NaN) when nothing was predicted / expected. */
export interface F1Counts {
  tp: number;
  fp: number;
  fn: number;
}

export const f1Of = ({ tp, fp, fn }: F1Counts) => ({
  precision: tp + fp === 0 ? 0 : tp / (tp + fp),
  recall: tp + fn === 0 ? 0 : tp / (tp + fn),
  f1: 2 * tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn),
});

/** Maximal runs [start, end) of 1s in a 0/1 sequence. */
export function runs(flags: ArrayLike<number>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = 0; t < flags.length; t++) {
    if (flags[t] === 1 && (t === 0 || flags[t - 1] !== 1)) out.push([t, t]);
    if (flags[t] === 1) out[out.length - 1]![1] = t + 1;
  }
  return out;
}

/** Adds one text's token and span counts: `gold` and `pred` are 0/1 per token. */
export function addCounts(token: F1Counts, span: F1Counts, gold: ArrayLike<number>, pred: ArrayLike<number>): void {
  for (let t = 0; t < gold.length; t++) {
    if (pred[t] === 1 && gold[t] === 1) token.tp++;
    else if (pred[t] === 1) token.fp++;
    else if (gold[t] === 1) token.fn++;
  }
  const g = runs(gold).map(([a, b]) => `${a}:${b}`);
  const p = new Set(runs(pred).map(([a, b]) => `${a}:${b}`));
  const found = g.filter((k) => p.has(k)).length;
  span.tp += found;
  span.fn += g.length - found;
  span.fp += p.size - found;
}
