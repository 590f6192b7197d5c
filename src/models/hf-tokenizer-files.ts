/**
 * The JSON files of a Hugging Face model directory that its tokenizer reads: tokenizer.json,
 * tokenizer_config.json, generation_config.json and config.json (for the end-of-sequence ids
 * and, in a bonsai checkpoint, the special-token rule its run used). Every defect names the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { GenerationDefaults, SpecialTokenRuleName } from './tokenizer-contract.ts';

export type Json = Record<string, unknown>;

/** A JSON object file of `dir`; undefined when absent and not `required`. */
export function readJsonFile(dir: string, file: string, required: boolean): Json | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) {
    if (!required) return undefined;
    throw new BonsaiError(`${path}: missing`, { hint: 'a Hugging Face model directory needs tokenizer.json' });
  }
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (e) {
    throw new BonsaiError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** An id or a list of ids (`eos_token_id`), checked. */
export function idList(value: unknown, where: string): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v) => Number.isInteger(v) && (v as number) >= 0)) {
    throw new BonsaiError(`${where}: expected a token id or a list of token ids, got ${JSON.stringify(value)}`);
  }
  return list as number[];
}

/**
 * generation_config.json's sampling fields, those it names (transformers' own defaults for
 * the rest, e.g. top_k 50, are not applied: bonsai's hold). Undefined when it names none.
 */
export function generationDefaults(dir: string, g: Json): GenerationDefaults | undefined {
  const file = join(dir, 'generation_config.json');
  const out: GenerationDefaults = { file };
  const num = (key: string, ok: (n: number) => boolean, what: string): number | undefined => {
    const v = g[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !ok(v)) throw new BonsaiError(`${file}: ${key} must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  };
  if (g.do_sample !== undefined && g.do_sample !== null) {
    if (typeof g.do_sample !== 'boolean') throw new BonsaiError(`${file}: do_sample must be true or false, got ${JSON.stringify(g.do_sample)}`);
    out.doSample = g.do_sample;
  }
  out.temperature = num('temperature', (n) => n >= 0, 'a number >= 0');
  out.topP = num('top_p', (n) => n > 0 && n <= 1, 'in (0, 1]');
  // transformers reads top_k 0 as "no top-k filtering".
  const k = num('top_k', (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0');
  out.topK = k === 0 ? undefined : k;
  const named = out.doSample !== undefined || out.temperature !== undefined || out.topP !== undefined || out.topK !== undefined;
  return named ? out : undefined;
}

/**
 * The special-token rule a bonsai checkpoint's run used (its config.json `special_tokens`),
 * undefined for a Hugging Face directory. A checkpoint written before bonsai applied special
 * tokens has no such field: its run fed the text alone, and so do its readers.
 */
export function checkpointRule(modelConfig: Json): SpecialTokenRuleName | undefined {
  if (typeof modelConfig.format !== 'string' || !modelConfig.format.startsWith('bonsai-checkpoint')) return undefined;
  return modelConfig.special_tokens === 'transformers' ? 'transformers' : 'none';
}
