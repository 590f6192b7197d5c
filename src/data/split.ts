/**
 * Train/eval split. Deterministic by seed so that a resumed or repeated run evaluates
 * on exactly the same held-out examples.
 */
import { BonsaiError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { checkSeed, mixSeed, SEED_PURPOSE } from './seed.ts';
import type { Example } from './types.ts';

/** The two halves of a split; each keeps the examples' original relative order. */
export interface Split<T> {
  train: T[];
  eval: T[];
}

/**
 * Holds out round(n·evalFraction) examples, chosen by a seeded permutation. When the
 * fraction is > 0 and there are ≥ 2 examples, at least one goes to eval and at least one
 * stays in train, so neither loop runs on nothing.
 * @param evalFraction in [0, 1)
 */
export function splitTrainEval<T = Example>(
  examples: readonly T[],
  evalFraction: number,
  seed: number,
): Split<T> {
  if (!(evalFraction >= 0 && evalFraction < 1)) {
    throw new BonsaiError(`eval fraction must be in [0, 1), got ${evalFraction}`);
  }
  checkSeed(seed);
  const n = examples.length;
  let nEval = 0;
  if (evalFraction > 0 && n >= 2) {
    nEval = Math.min(n - 1, Math.max(1, Math.round(n * evalFraction)));
  }
  const order = Array.from({ length: n }, (_, i) => i);
  new Rng(mixSeed(seed, SEED_PURPOSE.split)).shuffle(order);
  const isEval = new Uint8Array(n); // [n]
  for (let k = 0; k < nEval; k++) isEval[order[k]!] = 1;
  const out: Split<T> = { train: [], eval: [] };
  for (let i = 0; i < n; i++) (isEval[i] ? out.eval : out.train).push(examples[i]!);
  return out;
}
