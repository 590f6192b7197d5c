/**
 * MLflow's rules for names and values, and the exact text its file store writes, so runs
 * written here read back in `mlflow ui` and survive `mlflow migrate-filestore`.
 */
import { isAbsolute } from 'node:path';
import { BonsaiError } from '../errors.ts';

/** MLflow's key limit (`mlflow/utils/validation.py`). */
export const MAX_KEY_LENGTH = 250;
/** Param value limit that every MLflow server accepts (newer ones allow 6000). */
export const MAX_PARAM_VALUE_LENGTH = 500;
/** Appended to a value cut to fit; counted inside the limit. */
const TRUNCATION_MARKER = '...[truncated]';

// Python's `\w` is Unicode-aware; JS's is ASCII-only, so spell it out.
const VALID_KEY = /^[/\p{L}\p{N}_.\- ]*$/u;
const INVALID_CHAR = /[^/\p{L}\p{N}_.\- ]/gu;

/** True when MLflow would accept `key` as a metric, param or tag name. */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !VALID_KEY.test(key)) return false;
  if (key.includes('..') || key.startsWith('/')) return false;
  // The file store also refuses keys that are not their own normalised path ('a//b', 'a/').
  return key.split('/').every((seg) => seg !== '' && seg !== '.');
}

/**
 * Makes `key` valid: bad characters become `_`, `..` and empty or `.` path segments are
 * removed, and the result is cut to 250 characters. Valid keys come back unchanged.
 */
export function sanitizeKey(key: string): string {
  if (isValidKey(key)) return key;
  let k = key.replace(INVALID_CHAR, '_').replace(/\.{2,}/g, (m) => '_'.repeat(m.length));
  k = k
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
  k = k.slice(0, MAX_KEY_LENGTH).replace(/\/+$/, '');
  return k === '' || k === '.' ? '_' : k;
}

/**
 * Returns `sanitizeKey(key)`, warning once per process for each key it had to change, so a
 * long run does not print the same warning every step.
 */
export function sanitizeKeyWarnOnce(key: string, kind: 'metric' | 'param' | 'tag'): string {
  const clean = sanitizeKey(key);
  if (clean !== key && !warned.has(`${kind}:${key}`)) {
    warned.add(`${kind}:${key}`);
    console.warn(`bonsai: ${kind} key ${JSON.stringify(key)} is not a valid MLflow key; logging it as ${JSON.stringify(clean)}`);
  }
  return clean;
}
const warned = new Set<string>();

/**
 * MLflow params are immutable within a run: false when `value` was already logged for `key`
 * (nothing to do), true when the key is new, and a BonsaiError when it would change.
 */
export function isNewParam(key: string, old: string | undefined, value: string): boolean {
  if (old === undefined) return true;
  if (old === value) return false;
  throw new BonsaiError(`param ${JSON.stringify(key)} was already logged as ${JSON.stringify(old)}; it cannot change to ${JSON.stringify(value)}`, {
    hint: 'MLflow params are immutable within a run: log a changing value as a metric or tag',
  });
}

/** An artifact path must be relative and stay inside the run's artifacts. */
export function checkArtifactPath(artifactPath: string | undefined): void {
  if (artifactPath && (isAbsolute(artifactPath) || artifactPath.split(/[/\\]/).includes('..'))) {
    throw new BonsaiError(`artifact path ${JSON.stringify(artifactPath)} must be relative and stay inside the run's artifacts`);
  }
}

/** Cuts `value` to `max` characters, ending it with a marker so the cut is visible. */
export function truncateValue(value: string, max = MAX_PARAM_VALUE_LENGTH): string {
  if (value.length <= max) return value;
  return value.slice(0, Math.max(0, max - TRUNCATION_MARKER.length)) + TRUNCATION_MARKER;
}

/**
 * Formats a number as Python's `str(float)` does, which is what MLflow's file store writes
 * for a metric value: `2.0`, `1e-05`, `1e+16`, `nan`, `inf`, `-inf`, `-0.0`. JS and Python
 * both pick the shortest digits that round-trip; only the layout differs.
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  const exp = Number(expText);
  const point = exp + 1; // digits[0..point) come before the decimal point
  // CPython's float_repr_style 'short' switches to exponent form outside this range.
  if (point <= -4 || point > 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
