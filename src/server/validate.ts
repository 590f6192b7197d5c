/**
 * Request bodies → typed requests, or an HttpError whose message says what is wrong and
 * where (`query[3] must be a string, got number`). Nothing a client sends may throw
 * anything else: every check runs on `unknown`.
 */
import type { ScoreText } from './texts.ts';
import { splitQuery } from './texts.ts';

/** An answer with a 4xx/5xx status and a message for the client, sent as {error}. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8, then JSON: a body that is neither is a 400 naming which. */
export function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new HttpError(400, 'the body is not valid UTF-8');
  }
  if (text.trim() === '') throw new HttpError(400, 'the body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function objectBody(body: unknown): Record<string, unknown> {
  if (kind(body) !== 'object') throw new HttpError(400, `the body must be a JSON object, got ${kind(body)}`);
  return body as Record<string, unknown>;
}

/** A non-empty list of at most `maxBatch` strings. */
function textList(o: Record<string, unknown>, field: string, maxBatch: number): string[] {
  const v = o[field];
  if (v === undefined) throw new HttpError(400, `"${field}" is missing: send a list of strings`);
  if (!Array.isArray(v)) throw new HttpError(400, `"${field}" must be a list of strings, got ${kind(v)}`);
  if (v.length === 0) throw new HttpError(400, `"${field}" is empty: send at least one string`);
  if (v.length > maxBatch) throw new HttpError(422, `"${field}" has ${v.length} items; this server scores at most ${maxBatch} per request (--max-batch): split the batch`);
  v.forEach((s, i) => {
    if (typeof s !== 'string') throw new HttpError(400, `${field}[${i}] must be a string, got ${kind(s)}`);
  });
  return v as string[];
}

/** An optional list parallel to `n` items; labels may also be numbers or null (no answer). */
function parallelList(o: Record<string, unknown>, field: string, n: number, labels: boolean): Array<string | undefined> | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new HttpError(400, `"${field}" must be a list, got ${kind(v)}`);
  if (v.length !== n) throw new HttpError(400, `"${field}" has ${v.length} items but there are ${n} texts; send one per text`);
  return v.map((s, i) => {
    if (typeof s === 'string') return s;
    if (labels && s === null) return undefined;
    if (labels && typeof s === 'number' && Number.isFinite(s)) return String(s);
    throw new HttpError(400, `${field}[${i}] must be a string${labels ? ', a finite number or null' : ''}, got ${kind(s)}`);
  });
}

/**
 * OpenRLHF's `{query, prompts?, labels?}`. Each query is split at its prompt (see
 * splitQuery); a prompt that does not occur in its query is a 422.
 */
export function openRlhfRequest(body: unknown, maxBatch: number): ScoreText[] {
  const o = objectBody(body);
  const query = textList(o, 'query', maxBatch);
  const prompts = parallelList(o, 'prompts', query.length, false);
  const labels = parallelList(o, 'labels', query.length, true);
  return query.map((q, i) => {
    const split = splitQuery(q, prompts?.[i]);
    if (!split) throw new HttpError(422, `prompts[${i}] does not occur in query[${i}]; the completion is what follows the prompt in the query`);
    return { ...split, answer: labels?.[i] };
  });
}

const REWARDS_FIELDS = new Set(['completions', 'prompts', 'answers', 'per_token']);

/** bonsai's `{completions, prompts?, answers?, per_token?}`; unknown fields are refused (a typo is not ignored). */
export function rewardsRequest(body: unknown, maxBatch: number): { texts: ScoreText[]; perToken: boolean } {
  const o = objectBody(body);
  const unknown = Object.keys(o).filter((k) => !REWARDS_FIELDS.has(k));
  if (unknown.length) throw new HttpError(400, `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected ${[...REWARDS_FIELDS].join(', ')}`);
  const completions = textList(o, 'completions', maxBatch);
  const prompts = parallelList(o, 'prompts', completions.length, false);
  const answers = parallelList(o, 'answers', completions.length, true);
  const perToken = o.per_token === undefined ? true : o.per_token;
  if (typeof perToken !== 'boolean') throw new HttpError(400, `"per_token" must be true or false, got ${kind(perToken)}`);
  return { texts: completions.map((completion, i) => ({ prompt: prompts?.[i] ?? '', completion, answer: answers?.[i] })), perToken };
}
