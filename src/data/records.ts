/**
 * JSONL of plain objects with named fields (probe data, RL prompts). A line that is not an
 * object, or lacks a required field of the right type, is an error naming file:line.
 */
import { readFileSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';

export type FieldType = 'string' | 'number';

/** Reads `path`, checking each line has `required` fields (and `optional` ones typed right). */
export function readRecords(path: string, required: Record<string, FieldType>, optional: Record<string, FieldType> = {}): Array<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BonsaiError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const out: Array<Record<string, unknown>> = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new BonsaiError(`invalid JSON: ${(e as Error).message}`, { where });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BonsaiError('expected a JSON object per line', { where });
    const o = v as Record<string, unknown>;
    for (const [k, t] of Object.entries(required)) if (typeof o[k] !== t) throw new BonsaiError(`field "${k}" must be a ${t}, got ${JSON.stringify(o[k])}`, { where });
    for (const [k, t] of Object.entries(optional)) if (k in o && typeof o[k] !== t) throw new BonsaiError(`field "${k}" must be a ${t}, got ${JSON.stringify(o[k])}`, { where });
    out.push(o);
  });
  if (out.length === 0) throw new BonsaiError(`${path} holds no records`);
  return out;
}
