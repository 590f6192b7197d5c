/**
 * Parsing JSONL training files. Each non-blank line is `{"text": ...}` (train on all of
 * it), `{"prompt": ..., "completion": ...}` (train on the completion only) or
 * `{"messages": [...]}` (a chat, rendered with the model's template: data/chat.ts). A
 * bad line is an error naming `file:line`, never a silent skip: a dataset that quietly
 * loses lines trains a different model than the one the user asked for.
 */
import { BonsaiError, BonsaiErrors } from '../errors.ts';
import type { ChatMessage } from '../models/hf-tokenizer.ts';
import { parseMessages } from './chat.ts';

/** One parsed line, before tokenising. */
export type JsonlRecord =
  | { kind: 'text'; line: number; text: string }
  | { kind: 'prompt'; line: number; prompt: string; completion: string }
  | { kind: 'messages'; line: number; messages: ChatMessage[] };

/** Past this many bad lines, stop listing them: the file is probably not JSONL at all. */
const MAX_REPORTED = 20;

const SHAPES = 'expected {"text": string}, {"prompt": string, "completion": string} or {"messages": [{"role", "content"}, ...]}';

/** Human-readable JSON type of a value, for error messages. */
function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Checks one parsed line; returns the record or a message saying what is wrong. */
function toRecord(value: unknown, line: number): JsonlRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `line is a JSON ${typeName(value)}, not an object; ${SHAPES}`;
  }
  const obj = value as Record<string, unknown>;
  const hasText = 'text' in obj;
  const hasPrompt = 'prompt' in obj || 'completion' in obj;
  const hasMessages = 'messages' in obj;
  const shapes = [hasText && '"text"', hasPrompt && '"prompt"/"completion"', hasMessages && '"messages"'].filter(Boolean);
  if (shapes.length > 1) return `has both ${shapes.join(' and ')}; use one shape per line`;
  if (hasMessages) {
    const messages = parseMessages(obj.messages);
    return typeof messages === 'string' ? messages : { kind: 'messages', line, messages };
  }
  if (hasText) {
    if (typeof obj.text !== 'string') return `"text" must be a string, got ${typeName(obj.text)}`;
    if (obj.text.length === 0) return `"text" is empty`;
    return { kind: 'text', line, text: obj.text };
  }
  if (hasPrompt) {
    for (const key of ['prompt', 'completion'] as const) {
      const other = key === 'prompt' ? 'completion' : 'prompt';
      if (!(key in obj)) return `has "${other}" but no "${key}"`;
      if (typeof obj[key] !== 'string') {
        return `"${key}" must be a string, got ${typeName(obj[key])}`;
      }
    }
    return {
      kind: 'prompt',
      line,
      prompt: obj.prompt as string,
      completion: obj.completion as string,
    };
  }
  const keys = Object.keys(obj);
  return `${SHAPES}; got keys [${keys.map((k) => JSON.stringify(k)).join(', ')}]`;
}

/**
 * Parses JSONL text. Blank lines are skipped; every other line must be valid. All bad
 * lines (up to 20) are reported at once, each as `file:line: what is wrong`.
 * @param content the file's text
 * @param file the path to name in errors
 */
export function parseJsonl(content: string, file: string): JsonlRecord[] {
  return parseJsonLines(content, file, toRecord, {
    empty: 'dataset is empty: no non-blank lines',
    hint: 'each line should be {"text": ...}, {"prompt": ..., "completion": ...} or {"messages": [...]}',
  });
}

/**
 * The JSONL reader every data file goes through: blank lines skipped, a UTF-8 BOM and CRLF
 * endings tolerated, each other line JSON.parse'd and given to `check`, which returns the
 * record or what is wrong with it. All bad lines (up to 20) are reported at once as
 * `file:line: what is wrong`; a file with no records is an error too.
 */
export function parseJsonLines<T>(
  content: string,
  file: string,
  check: (value: unknown, line: number) => T | string,
  onEmpty: { empty: string; hint?: string },
): T[] {
  const records: T[] = [];
  const errors: BonsaiError[] = [];
  let badLines = 0;
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    // A UTF-8 BOM on line 1 or CRLF endings are editor artefacts, not content.
    const text = (i === 0 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
    if (text.trim() === '') continue;
    const where = `${file}:${i + 1}`;
    let result: T | string;
    try {
      result = check(JSON.parse(text), i + 1);
    } catch (e) {
      result = `not valid JSON (${(e as Error).message})`;
    }
    if (typeof result === 'string') {
      badLines++;
      if (errors.length < MAX_REPORTED) errors.push(new BonsaiError(result, { where }));
    } else {
      records.push(result);
    }
  }
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) {
    const more = badLines > errors.length ? ` (first ${errors.length} shown)` : '';
    throw new BonsaiErrors(`${file}: ${badLines} bad JSONL lines${more}`, errors);
  }
  if (records.length === 0) throw new BonsaiError(onEmpty.empty, { where: file, hint: onEmpty.hint });
  return records;
}
