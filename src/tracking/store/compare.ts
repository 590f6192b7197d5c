/** What `bonsai runs compare` and the ui page show: the params that differ between runs. */
import type { RunSummary } from './types.ts';

/**
 * The param keys whose value is not the same in every run (a key one run lacks counts as
 * differing), sorted. With one run, nothing differs.
 */
export function differingParams(runs: RunSummary[]): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.params)));
  return [...keys].filter((k) => new Set(runs.map((r) => r.params[k])).size > 1).sort();
}

/** Every metric key any of the runs logged, sorted. */
export function metricKeys(runs: RunSummary[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
}

/** A metric value for a table: 6 significant digits, Python's spellings for nan/inf. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  return String(Number(v.toPrecision(6)));
}
