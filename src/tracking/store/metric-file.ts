/**
 * A metric's latest value and its history's order, the same for every store (the metric
 * file format is in ../layout.ts).
 */
import type { MetricPoint } from './types.ts';

/** MLflow's order for "latest": by step, then timestamp, then value (NaN sorts lowest). */
function compare(a: MetricPoint, b: MetricPoint): number {
  if (a.step !== b.step) return a.step - b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  const av = Number.isNaN(a.value) ? -Infinity : a.value;
  const bv = Number.isNaN(b.value) ? -Infinity : b.value;
  return av === bv ? 0 : av < bv ? -1 : 1;
}

/** The latest point of a history (undefined for an empty one). */
export function latestPoint(points: MetricPoint[]): MetricPoint | undefined {
  let best: MetricPoint | undefined;
  for (const p of points) if (!best || compare(p, best) > 0) best = p;
  return best;
}

/** The history sorted for plotting: by step, then time. */
export function sortHistory(points: MetricPoint[]): MetricPoint[] {
  return [...points].sort(compare);
}
