/**
 * Thinning a long metric history for drawing. A run that logs every step for 100k steps
 * would send megabytes and make the tab draw 100k points per series; the page needs at
 * most a few thousand. Min/max buckets keep what a reader looks for (spikes, divergence,
 * NaN gaps), which plain striding would skip.
 */

/** A metric history as columns, in step order (what the page's charts take). */
export interface MetricColumns {
  step: number[];
  time: number[];
  value: number[];
}

/**
 * Indices of at most ~`max` points: the first and last point, and in each of max/2 − 1
 * equal buckets the lowest and the highest finite value (in their order), plus the first
 * non-finite one so a NaN still shows as a gap. Short histories come back whole.
 */
export function downsampleIndices(values: readonly number[], max: number): number[] {
  const n = values.length;
  if (n <= max || max < 4) return Array.from({ length: n }, (_, i) => i);
  const buckets = Math.floor(max / 2) - 1;
  const keep: number[] = [0];
  const size = (n - 2) / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor(b * size);
    const to = Math.min(n - 1, 1 + Math.floor((b + 1) * size));
    let lo = -1;
    let hi = -1;
    let bad = -1;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) {
        if (bad < 0) bad = i;
        continue;
      }
      if (lo < 0 || v < values[lo]!) lo = i;
      if (hi < 0 || v > values[hi]!) hi = i;
    }
    keep.push(...[...new Set([lo, hi, bad])].filter((i) => i >= 0).sort((a, b) => a - b));
  }
  keep.push(n - 1);
  return keep;
}

/** The columns at `max` points at most, with the full history's size and finite extremes. */
export function thinColumns(c: MetricColumns, max: number): MetricColumns & { n: number; min: number | null; max: number | null } {
  const idx = downsampleIndices(c.value, max);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of c.value) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const pick = <T>(xs: readonly T[]) => (idx.length === xs.length ? [...xs] : idx.map((i) => xs[i]!));
  return {
    step: pick(c.step), time: pick(c.time), value: pick(c.value),
    n: c.value.length, min: Number.isFinite(lo) ? lo : null, max: Number.isFinite(hi) ? hi : null,
  };
}
