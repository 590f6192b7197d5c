/**
 * Unigram entropy of the training targets: the loss a model gets by ignoring context and
 * predicting each token's overall frequency. An eval loss below it is the first sign
 * that the model uses context at all, so the quickstart prints it as the bar to clear.
 */
import { BonsaiError } from '../errors.ts';
import type { Example } from './types.ts';

/** Entropy of the unigram distribution, per token. */
export interface UnigramEntropy {
  /** Bits per token (log base 2). */
  bits: number;
  /** Nats per token (natural log): comparable to a cross-entropy loss. */
  nats: number;
  /** Number of targets counted. */
  tokens: number;
}

/** Counts of targets (positions with lossMask 1) by token id. */
export function targetCounts(examples: readonly Example[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const ex of examples) {
    for (let t = 0; t < ex.ids.length; t++) {
      if (ex.lossMask[t]) counts.set(ex.ids[t]!, (counts.get(ex.ids[t]!) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Unigram entropy H = −Σ p·log p of the training targets.
 * @param source examples (their masked targets are counted), a Map id → count, or an
 *   array of counts indexed by id
 */
export function unigramEntropyBits(
  source: readonly Example[] | ReadonlyMap<number, number> | ArrayLike<number>,
): UnigramEntropy {
  let counts: Iterable<number>;
  if (source instanceof Map) counts = source.values();
  else if (Array.isArray(source) && source.length > 0 && typeof source[0] === 'object') {
    counts = targetCounts(source as readonly Example[]).values();
  } else counts = Array.from(source as ArrayLike<number>);

  let total = 0;
  const cs: number[] = [];
  for (const c of counts) {
    if (!(c >= 0) || !Number.isFinite(c)) {
      throw new BonsaiError(`token count must be a finite number ≥ 0, got ${c}`);
    }
    if (c > 0) cs.push(c);
    total += c;
  }
  if (total === 0) throw new BonsaiError('unigram entropy of an empty dataset is undefined');
  let nats = 0;
  for (const c of cs) {
    const p = c / total;
    nats -= p * Math.log(p);
  }
  return { bits: nats / Math.LN2, nats, tokens: total };
}
