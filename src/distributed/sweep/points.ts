/**
 * The points of a sweep: the Cartesian product of a grid and/or seeded random samples,
 * each a set of recipe values. Pure functions of the spec, so the same spec always gives
 * the same points in the same order (a re-run finds the points it already ran).
 */
import { parseValue } from '../../recipe/overrides.ts';
import type { Distribution } from '../../recipe/sweep-schema.ts';
import { Rng } from '../../util/rng.ts';

/** What a sweep varies; paths are canonical dotted recipe paths (`gradients.0.max_norm`). */
export interface SweepSpec {
  /** Parent run name; default `<run.name>-sweep`. */
  name?: string;
  grid: Record<string, unknown[]>;
  random?: { samples: number; seed: number; space: Record<string, Distribution> };
  /** Points run at once by a local sweep. */
  parallel: number;
}

/** One point: the values it sets, and how it is named and identified. */
export interface SweepPoint {
  /** 0-based position in the sweep. */
  index: number;
  /** Recipe path → value, in the spec's path order. */
  values: Record<string, unknown>;
  /** Identity across runs: the values as JSON with sorted keys (the `bonsai.sweep.point` tag). */
  key: string;
  /** For people: `lr=0.001,seed=1` (last path segment unless two paths share it). */
  label: string;
  /** The values as `--set` strings for `bonsai train`. */
  sets: string[];
}

/** Significant digits kept of a sampled float, so names, tags and re-runs agree exactly. */
const SAMPLE_DIGITS = 4;

/** Every combination of the grid's values; the first path varies slowest. No grid: one empty point. */
export function gridCombinations(grid: Record<string, unknown[]>): Array<Record<string, unknown>> {
  let out: Array<Record<string, unknown>> = [{}];
  for (const [path, values] of Object.entries(grid)) {
    out = out.flatMap((partial) => values.map((v) => ({ ...partial, [path]: v })));
  }
  return out;
}

/** One draw from a distribution; floats rounded to SAMPLE_DIGITS significant digits. */
function draw(d: Distribution, rng: Rng): unknown {
  const round = (x: number) => Number(x.toPrecision(SAMPLE_DIGITS));
  if ('choice' in d) return d.choice[rng.int(d.choice.length)];
  if ('int_uniform' in d) return d.int_uniform[0] + rng.int(d.int_uniform[1] - d.int_uniform[0] + 1);
  if ('uniform' in d) return round(d.uniform[0] + rng.next() * (d.uniform[1] - d.uniform[0]));
  const [lo, hi] = d.log_uniform.map(Math.log) as [number, number];
  return round(Math.exp(lo + rng.next() * (hi - lo)));
}

/** `samples` random points from `space`, seeded: the same seed draws the same values. */
export function randomSamples(random: NonNullable<SweepSpec['random']>): Array<Record<string, unknown>> {
  const rng = new Rng(random.seed);
  return Array.from({ length: random.samples }, () =>
    Object.fromEntries(Object.entries(random.space).map(([path, d]) => [path, draw(d, rng)])),
  );
}

/**
 * A value as YAML text for `--set`: a string bare when it reads back as itself (`adamw`),
 * else JSON, which is valid flow YAML; non-finite numbers in YAML's spelling.
 */
export function yamlText(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string' && v.trim() === v) {
    const back = parseValue(v);
    if ('value' in back && back.value === v) return v;
  }
  return JSON.stringify(v);
}

/** A value as it reads in a name or a table. */
export function valueText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** The point identity: values as JSON with sorted keys, so reordering a grid keeps it. */
export function pointKey(values: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Short names for paths: the last non-index segment, or the whole path where two would clash. */
export function shortNames(paths: string[]): Record<string, string> {
  const last = (p: string) => p.split('.').filter((s) => !/^\d+$/.test(s)).pop() ?? p;
  const count = new Map<string, number>();
  for (const p of paths) count.set(last(p), (count.get(last(p)) ?? 0) + 1);
  return Object.fromEntries(paths.map((p) => [p, count.get(last(p))! > 1 ? p : last(p)]));
}

/**
 * The sweep's points: every grid combination with every random sample (grid first), in a
 * fixed order. Two draws that round to the same values are one point.
 */
export function sweepPoints(spec: SweepSpec): SweepPoint[] {
  const samples = spec.random ? randomSamples(spec.random) : [{}];
  const names = shortNames([...Object.keys(spec.grid), ...Object.keys(spec.random?.space ?? {})]);
  const seen = new Set<string>();
  const points: SweepPoint[] = [];
  for (const g of gridCombinations(spec.grid)) {
    for (const s of samples) {
      const values = { ...g, ...s };
      const key = pointKey(values);
      if (seen.has(key)) continue;
      seen.add(key);
      const entries = Object.entries(values);
      points.push({
        index: points.length,
        values,
        key,
        label: entries.map(([p, v]) => `${names[p]}=${valueText(v)}`).join(','),
        sets: entries.map(([p, v]) => `${p}=${yamlText(v)}`),
      });
    }
  }
  return points;
}
