/**
 * Parsing MLflow's metric files and picking a metric's latest value. Kept apart from the
 * folder walk so the rules (line format, Python float spellings, the latest-value order)
 * are tested on their own.
 */
import type { MetricPoint } from './types.ts';

/** Python's float spellings that JS's Number() does not read. */
const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, '+inf': Infinity, infinity: Infinity, '-infinity': -Infinity };

function pyFloat(text: string): number {
  const special = SPECIAL[text.toLowerCase()];
  if (special !== undefined) return special;
  const n = text.trim() === '' ? NaN : Number(text);
  if (Number.isNaN(n)) throw new Error(`"${text}" is not a number`);
  return n;
}

/**
 * Parses `<timestamp_ms> <value> <step>` lines (old MLflow wrote no step: it means 0).
 * A last line with no newline is being written by a live run and is left for the next
 * read; any other bad line throws with its line number.
 */
export function parseMetricLines(text: string): MetricPoint[] {
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or a line still being written
  const out: MetricPoint[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = line.trim().split(/\s+/);
    if (parts.length < 2 || parts.length > 3) throw new Error(`line ${i + 1}: expected "<timestamp> <value> <step>", got ${JSON.stringify(line.slice(0, 80))}`);
    try {
      const timestamp = pyFloat(parts[0]!);
      const step = parts[2] === undefined ? 0 : pyFloat(parts[2]);
      if (!Number.isFinite(timestamp) || !Number.isInteger(step)) throw new Error('timestamp and step must be integers');
      out.push({ timestamp, value: pyFloat(parts[1]!), step });
    } catch (e) {
      throw new Error(`line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}

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
