/**
 * The PII world: synthetic text with labelled personal-data spans (character offsets and a
 * kind), from a training family of templates and a different evaluation family (see
 * pii-templates.ts), so a token-level probe trained on one is measured on a shift. Truth is
 * exact: every span is where the generator put it. Files are JSONL of {text, spans}.
 */
import type { Tokenizer } from '../../models/tokenizer.ts';
import { Rng } from '../../util/rng.ts';
import { parseJsonLines } from '../jsonl.ts';
import { readDataFile } from '../load.ts';
import { FAMILIES, PII_KINDS, type PiiFamily, type PiiKind } from './pii-templates.ts';

export { PII_KINDS, type PiiFamily, type PiiKind } from './pii-templates.ts';

/** A PII span: characters [start, end) of the text (UTF-16 offsets, as JS strings index). */
export interface PiiSpan {
  start: number;
  end: number;
  kind: PiiKind;
}

/** One line of a PII file. */
export interface PiiRecord {
  text: string;
  spans: PiiSpan[];
}

/** `n` records of `family`, deterministic in `seed`. */
export function piiRecords(family: PiiFamily, n: number, seed: number): PiiRecord[] {
  const rng = new Rng(seed);
  const { templates, fill } = FAMILIES[family];
  return Array.from({ length: n }, () => fillTemplate(templates[rng.int(templates.length)]!, (k) => fill[k](rng)));
}

/** Fills each `{kind}` slot of a template, recording where each filled value landed. */
export function fillTemplate(template: string, value: (kind: PiiKind) => string): PiiRecord {
  let text = '';
  const spans: PiiSpan[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{([a-z]+)\}/g)) {
    const kind = m[1] as PiiKind;
    if (!PII_KINDS.includes(kind)) throw new Error(`internal: template slot {${kind}} is not a PII kind`);
    text += template.slice(last, m.index);
    const v = value(kind);
    spans.push({ start: text.length, end: text.length + v.length, kind });
    text += v;
    last = m.index + m[0].length;
  }
  return { text: text + template.slice(last), spans };
}

/** Checks one parsed line of a PII file; returns the record or what is wrong with it. */
function checkRecord(v: unknown): PiiRecord | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'expected a JSON object {"text": string, "spans": [...]} per line';
  const o = v as Record<string, unknown>;
  if (typeof o.text !== 'string') return `field "text" must be a string, got ${JSON.stringify(o.text)}`;
  if (!Array.isArray(o.spans)) return `field "spans" must be an array of {start, end, kind}, got ${JSON.stringify(o.spans)}`;
  const spans: PiiSpan[] = [];
  for (const [i, s] of o.spans.entries()) {
    const { start, end, kind } = (s ?? {}) as Record<string, unknown>;
    if (!Number.isInteger(start) || !Number.isInteger(end)) return `spans[${i}]: start and end must be integers, got ${JSON.stringify(s)}`;
    if (!PII_KINDS.includes(kind as PiiKind)) return `spans[${i}]: kind must be one of ${PII_KINDS.join(', ')}, got ${JSON.stringify(kind)}`;
    const [a, b] = [start as number, end as number];
    if (a < 0 || b > o.text.length || a >= b) return `spans[${i}]: [${a}, ${b}) is outside the text (${o.text.length} characters) or empty`;
    spans.push({ start: a, end: b, kind: kind as PiiKind });
  }
  spans.sort((x, y) => x.start - y.start);
  for (let i = 1; i < spans.length; i++) if (spans[i]!.start < spans[i - 1]!.end) return `spans overlap: [${spans[i - 1]!.start}, ${spans[i - 1]!.end}) and [${spans[i]!.start}, ${spans[i]!.end})`;
  return { text: o.text, spans };
}

/** Reads a PII JSONL file; a bad line (e.g. a span outside its text) is an error naming file:line. */
export function readPiiRecords(path: string): PiiRecord[] {
  return parseJsonLines(readDataFile(path), path, checkRecord, { empty: 'no PII records: every line is blank', hint: 'each line is {"text": string, "spans": [{"start", "end", "kind"}]}' });
}

/** The JSONL text of records (one per line). */
export const piiJsonl = (rows: PiiRecord[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/**
 * Each token's character range [start, end) in `text`: from the decoded length of each
 * prefix, so it holds for any tokenizer (a byte inside a multi-byte character ends the
 * character's range at that character).
 */
export function tokenCharRanges(tok: Tokenizer, text: string, ids = tok.encode(text)): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let prev = 0;
  for (let i = 0; i < ids.length; i++) {
    const decoded = tok.decode(ids.slice(0, i + 1));
    // A partial UTF-8 sequence decodes to U+FFFD; do not let it count past the text.
    const end = Math.min(text.length, Math.max(prev, decoded.endsWith('\uFFFD') ? decoded.length - 1 : decoded.length));
    out.push([prev, Math.max(end, prev)]);
    prev = Math.max(end, prev);
  }
  return out;
}

/** 1 for each token whose characters overlap a span, else 0. */
export function tokenLabels(tok: Tokenizer, rec: PiiRecord): { ids: number[]; labels: number[] } {
  const ids = tok.encode(rec.text);
  const ranges = tokenCharRanges(tok, rec.text, ids);
  const labels = ranges.map(([a, b]) => (rec.spans.some((s) => a < s.end && s.start < Math.max(b, a + 1)) ? 1 : 0));
  return { ids, labels };
}

/**
 * Probe-training lines {prompt, completion, label} for `bonsai probe train` (token level):
 * the text cut at span boundaries, each piece a completion after everything before it as
 * the prompt. A causal model's activation at a token sees only its prefix, so labelling a
 * piece's tokens after that prompt is exactly labelling them in the whole text.
 */
export function probeLines(rec: PiiRecord): Array<{ prompt: string; completion: string; label: number }> {
  const cuts = [0, ...rec.spans.flatMap((s) => [s.start, s.end]), rec.text.length];
  const out: Array<{ prompt: string; completion: string; label: number }> = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i]!, cuts[i + 1]!];
    if (b > a) out.push({ prompt: rec.text.slice(0, a), completion: rec.text.slice(a, b), label: i % 2 });
  }
  return out;
}
