import { MAX_PARAM_VALUE_LENGTH, truncateValue } from './keys.ts';

/**
 * Flattens a resolved recipe (or any JSON-like value) into MLflow params: nested keys
 * joined with `.`, array items as `.0`, `.1`, …; every value a string, cut to 500
 * characters with a visible marker (MLflow refuses longer param values).
 *
 * Empty objects and arrays become `{}` / `[]` so that "set but empty" is still recorded;
 * `undefined` values and functions are skipped, `null` becomes `null`.
 *
 * @example flattenParams({ trainer: { lr: 3e-4, betas: [0.9, 0.95] } })
 *   // { 'trainer.lr': '0.0003', 'trainer.betas.0': '0.9', 'trainer.betas.1': '0.95' }
 */
export function flattenParams(obj: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  walk(obj, prefix, out);
  return out;
}

function walk(value: unknown, key: string, out: Record<string, string>): void {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) {
      if (key) out[key] = Array.isArray(value) ? '[]' : '{}';
      return;
    }
    for (const [k, v] of entries) walk(v, key ? `${key}.${k}` : k, out);
    return;
  }
  const text = value instanceof Date ? value.toISOString() : String(value);
  // A bare scalar with no prefix still needs a name.
  out[key || 'value'] = truncateValue(text, MAX_PARAM_VALUE_LENGTH);
}
