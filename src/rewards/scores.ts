/**
 * A reward's raw output, checked and read into one of two shapes: one score per rollout
 * (a sequence-level reward, what every reward returned before per-token rewards), or one
 * array per rollout with a score for each of its completion tokens (a per-token reward: a
 * token probe with `aggregate: none`, a module returning arrays). The shape is read from
 * the values, so a module decides per call; anything else is an error naming the reward
 * and the rollout.
 */
import { BonsaiError } from '../errors.ts';
import type { RolloutBatch } from './types.ts';

/** A checked reward output. */
export type CheckedScores =
  | { kind: 'sequence'; scores: Float32Array /* [R] */ }
  | { kind: 'token'; scores: Float32Array[] /* [R][completion length] */; sums: Float32Array /* [R] */ };

const isArrayLike = (v: unknown): v is ArrayLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as ArrayLike<unknown>).length === 'number';

/** Finite numbers from `raw`, or an error naming the reward, the rollout and (per-token) the token. */
function finite(raw: ArrayLike<unknown>, what: (i: number) => string, name: string, at: string): Float32Array {
  const s = Float32Array.from(raw as ArrayLike<number>, Number);
  const bad = s.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new BonsaiError(`${at}reward "${name}" returned ${String(raw[bad])} for ${what(bad)} (scores must be finite numbers)`);
  return s;
}

/**
 * Reads a reward's output for `batch`: R numbers, or R arrays whose r-th holds one number per
 * completion token of rollout r (`batch.completions[r].length`). `at` prefixes errors (a step).
 */
export function checkScores(name: string, raw: unknown, batch: Pick<RolloutBatch, 'R' | 'completions'>, at = ''): CheckedScores {
  const arrayLike = isArrayLike(raw) || typeof raw === 'string'; // a string reads as before: its characters are not numbers
  if (!arrayLike) throw new BonsaiError(`${at}reward "${name}" returned ${typeof raw}, not an array of ${batch.R} scores (or of ${batch.R} per-token arrays)`);
  if ((raw as ArrayLike<unknown>).length !== batch.R) throw new BonsaiError(`${at}reward "${name}" returned ${(raw as ArrayLike<unknown>).length} scores for ${batch.R} rollouts`);
  const nested = Array.from(raw as ArrayLike<unknown>, isArrayLike);
  if (!nested.some(Boolean)) return { kind: 'sequence', scores: finite(raw as ArrayLike<unknown>, (r) => `rollout ${r}`, name, at) };
  const flat = nested.indexOf(false);
  if (flat >= 0) throw new BonsaiError(`${at}reward "${name}" returned a number for rollout ${flat} but arrays for others: a reward returns one score per rollout or one array of per-token scores per rollout, not both`);
  const scores = Array.from(raw as ArrayLike<ArrayLike<unknown>>, (tokens, r) => {
    const want = batch.completions[r]!.length;
    if (tokens.length !== want) throw new BonsaiError(`${at}reward "${name}" returned ${tokens.length} per-token scores for rollout ${r}, which has ${want} completion tokens`);
    return finite(tokens, (k) => `rollout ${r}, completion token ${k}`, name, at);
  });
  return { kind: 'token', scores, sums: Float32Array.from(scores, (s) => s.reduce((a, b) => a + b, 0)) };
}

/** `rewards/<name>/token_mean|token_std|token_min|token_max` over every completion token of the batch. */
export function tokenStats(name: string, scores: readonly Float32Array[]): Record<string, number> {
  let n = 0, sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (const s of scores) for (const v of s) (n++, sum += v, sq += v * v, min = Math.min(min, v), max = Math.max(max, v));
  const mean = n ? sum / n : 0;
  const p = `rewards/${name}/token_`;
  return { [`${p}mean`]: mean, [`${p}std`]: n ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 0, [`${p}min`]: n ? min : 0, [`${p}max`]: n ? max : 0 };
}
