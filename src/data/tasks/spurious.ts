import { Rng } from '../../util/rng.ts';

/** One prompt/completion pair as JSONL writes it. */
export interface TaskRecord {
  prompt: string;
  completion: string;
}

/**
 * Spurious correlation, the CAFT setting in small. The true label is the majority letter
 * of five (a/b → completion "A"/"B"); a marker letter at the start (x/y) is irrelevant by
 * construction. `marker: 'agree'` makes x ⇔ A, so the marker predicts the label perfectly
 * (training, in-distribution eval); `'reverse'` makes x ⇔ B (the out-of-distribution eval).
 * The marker is one fixed token, far easier to read than a majority of five.
 */
export function spuriousRecords(seed: number, n: number, marker: 'agree' | 'reverse'): TaskRecord[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const letters = Array.from({ length: 5 }, () => (rng.int(2) ? 'a' : 'b'));
    const label = letters.filter((c) => c === 'a').length >= 3 ? 'A' : 'B';
    const agrees = marker === 'agree';
    const m = (label === 'A') === agrees ? 'x' : 'y';
    return { prompt: `${m}${letters.join('')}=`, completion: label };
  });
}

/** Text whose every token is the marker (for a contrastive mean difference at hook_embed). */
export function markerText(marker: 'x' | 'y', n = 64): string {
  return marker.repeat(n);
}
