/**
 * JSONL of plain objects with named fields (probe data, RL prompts), read through the same
 * parseJsonLines as training data: a line that is not an object, or lacks a required field
 * of the right type, is an error naming file:line, all bad lines at once.
 */
import { parseJsonLines } from './jsonl.ts';
import { readDataFile } from './load.ts';

export type FieldType = 'string' | 'number';

/** Reads `path`, checking each line has `required` fields (and `optional` ones typed right). */
export function readRecords(path: string, required: Record<string, FieldType>, optional: Record<string, FieldType> = {}): Array<Record<string, unknown>> {
  const check = (v: unknown): Record<string, unknown> | string => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object per line';
    const o = v as Record<string, unknown>;
    for (const [k, t] of Object.entries(required)) if (typeof o[k] !== t) return `field "${k}" must be a ${t}, got ${JSON.stringify(o[k])}`;
    for (const [k, t] of Object.entries(optional)) if (k in o && typeof o[k] !== t) return `field "${k}" must be a ${t}, got ${JSON.stringify(o[k])}`;
    return o;
  };
  return parseJsonLines(readDataFile(path), path, check, { empty: "no records: every line is blank" });
}
