/**
 * Out-of-fold scores: each row scored by a probe refit without it. A threshold set on the
 * training rows' own scores is set on rows the probe has fit — they score further from the
 * boundary than rows it never saw, so the threshold sits too close to the class it should
 * spare (in the hallucination world, the known entities a "does not know" probe must not fire
 * on). Refitting k times, each time without one fold of the rows in question, gives every one
 * of them a score from a probe that never saw it, which is what a new row will get.
 */
import { BonsaiError } from '../errors.ts';
import type { Features } from './capture.ts';
import { fitProbe, type FitOptions } from './fit.ts';

/**
 * Scores of the rows `which` selects (e.g. the negatives), each from a probe fit on every other
 * row less its fold (rows `which` selects are dealt to `folds` folds in order); in row order.
 */
export function outOfFoldScores(f: Features, o: FitOptions, which: (row: number) => boolean, folds = 4): number[] {
  const rows = Array.from({ length: f.n }, (_, i) => i).filter(which);
  if (folds < 2 || rows.length < folds) throw new BonsaiError(`probe "${o.name}": ${folds}-fold scores need at least ${Math.max(folds, 2)} rows to score and 2 folds, got ${rows.length} rows`);
  const foldOf = new Map(rows.map((r, k) => [r, k % folds]));
  const out = new Map<number, number>();
  for (let k = 0; k < folds; k++) {
    const keep = Array.from({ length: f.n }, (_, i) => i).filter((i) => foldOf.get(i) !== k);
    const held = rows.filter((r) => foldOf.get(r) === k);
    const probe = fitProbe(pick(f, keep), o);
    try {
      const s = probe.scoreRows(pick(f, held).X, held.length);
      held.forEach((r, j) => out.set(r, s[j]!));
    } finally {
      probe.dispose();
    }
  }
  return rows.map((r) => out.get(r)!);
}

function pick(f: Features, idx: number[]): Features {
  const X = new Float32Array(idx.length * f.d);
  idx.forEach((r, i) => X.set(f.X.subarray(r * f.d, (r + 1) * f.d), i * f.d));
  return { X, y: Float32Array.from(idx, (r) => f.y[r]!), n: idx.length, d: f.d };
}
