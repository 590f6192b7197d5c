/**
 * MLflow's file store layout (specs/mlflow.md §2), for writing and reading alike: which
 * folders are experiments and runs, meta.yaml, the key files under params/ tags/ metrics/,
 * the run status numbers, and the metric line `<timestamp_ms> <value> <step>`. The local
 * tracker, the local run store, `--resume`, `runs push` and the sweep parent all go through
 * here, so the format is spelled once.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { pythonFloatRepr } from './keys.ts';
import type { MetricPoint, RunStatus } from './store/types.ts';

/** Store-root folders that are not experiments (MLflow's file store skips them too). */
export const NOT_EXPERIMENTS = new Set(['.trash', 'models']);
/** Experiment sub-folders that are not runs (MLflow 2.x keeps these beside the runs). */
export const NOT_RUNS = new Set(['tags', 'datasets', 'traces', 'models']);
/** MLflow run ids: 32 hex characters. Anything else never reaches the file system as a path. */
export const RUN_ID = /^[0-9a-f]{32}$/;

// ---- run status: a number in meta.yaml, a name in the API ----

/** MLflow's RunStatus numbers as the file store persists them. */
export const STATUS_CODE = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 } as const;
/** The status names, as the REST API spells them. */
export const STATUS_NAMES = Object.keys(STATUS_CODE) as Array<keyof typeof STATUS_CODE>;

/** A status from meta.yaml (a number) or the API (a name); UNKNOWN for anything else. */
export function statusName(s: unknown): RunStatus {
  if (typeof s === 'number') return STATUS_NAMES.find((n) => STATUS_CODE[n] === s) ?? 'UNKNOWN';
  const name = String(s).toUpperCase();
  return (STATUS_NAMES as string[]).includes(name) ? (name as RunStatus) : 'UNKNOWN';
}

// ---- metric files: one `<timestamp_ms> <value> <step>` line per logged value ----

/** One metric file line, value as Python's `str(float)` writes it. */
export function metricLine(timestamp: number, value: number, step: number): string {
  return `${timestamp} ${pythonFloatRepr(value)} ${step}\n`;
}

/** Python's float spellings that JS's Number() does not read. */
const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, '+inf': Infinity, infinity: Infinity, '-infinity': -Infinity };

function pyFloat(text: string): number {
  const special = SPECIAL[text.toLowerCase()];
  if (special !== undefined) return special;
  const n = text.trim() === '' ? NaN : Number(text);
  if (Number.isNaN(n)) throw new Error(`"${text}" is not a number`);
  return n;
}

/** Parses one non-blank metric line (old MLflow wrote no step: it means 0); throws saying what is wrong. */
export function parseMetricLine(line: string): MetricPoint {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) throw new Error(`expected "<timestamp> <value> <step>", got ${JSON.stringify(line.slice(0, 80))}`);
  const timestamp = pyFloat(parts[0]!);
  const step = parts[2] === undefined ? 0 : pyFloat(parts[2]);
  if (!Number.isFinite(timestamp) || !Number.isInteger(step)) throw new Error('timestamp and step must be integers');
  return { timestamp, value: pyFloat(parts[1]!), step };
}

/**
 * Parses a metric file. A last line with no newline is being written by a live run and is
 * left for the next read; any other bad line throws with its line number.
 */
export function parseMetricLines(text: string): MetricPoint[] {
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or a line still being written
  const out: MetricPoint[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(parseMetricLine(line));
    } catch (e) {
      throw new Error(`line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}

// ---- meta.yaml ----

/**
 * YAML as MLflow's `write_yaml` produces it: keys sorted, block style, and strings quoted
 * wherever YAML 1.1 (PyYAML) would read them as something else: `'1'`, `''`, `'on'`.
 */
export function toMlflowYaml(obj: Record<string, unknown>): string {
  return YAML.stringify(obj, { version: '1.1', singleQuote: true, sortMapEntries: true, lineWidth: 0 });
}

/** Writes a folder's meta.yaml through a temporary file and a rename. */
export function writeMeta(dir: string, meta: Record<string, unknown>): Promise<void> {
  return writeFileAtomic(join(dir, 'meta.yaml'), toMlflowYaml(meta));
}

/** A folder's meta.yaml as a mapping; throws a one-line reason when it is missing or malformed. */
export async function readMeta(dir: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fsp.readFile(join(dir, 'meta.yaml'), 'utf8');
  } catch (e) {
    throw new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no meta.yaml' : `cannot read meta.yaml: ${(e as Error).message}`);
  }
  let meta: unknown;
  try {
    meta = YAML.parse(text, { version: '1.1' });
  } catch (e) {
    throw new Error(`meta.yaml is not valid YAML: ${(e as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new Error('meta.yaml is not a mapping');
  return meta as Record<string, unknown>;
}

/** An experiment's meta.yaml; undefined if it is missing or unreadable. */
export function readExperimentMeta(root: string, id: string): Promise<Record<string, unknown> | undefined> {
  return readMeta(join(root, id)).catch(() => undefined);
}

// ---- params/, tags/, metrics/: a file per key, '/' in a key a sub-folder ----

/** Keys under a params/tags/metrics folder. A missing folder has none. */
export async function listKeys(dir: string): Promise<string[]> {
  const files = await fsp.readdir(dir, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  return files.filter((f) => f.isFile()).map((f) => relative(dir, join(f.parentPath, f.name)).split('\\').join('/')).sort();
}

/** Every key's value under a params or tags folder. */
export async function readValues(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await listKeys(dir)) out[key] = await fsp.readFile(join(dir, key), 'utf8');
  return out;
}

// ---- files ----

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fsp.writeFile(tmp, text);
  await fsp.rename(tmp, path);
}

/** `file:///abs/path` as Python's `pathlib.Path.as_uri()` spells it. */
export function fileUri(absPath: string): string {
  return pathToFileURL(absPath).href;
}
