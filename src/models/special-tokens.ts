/**
 * The special-token rule of a Hugging Face tokenizer: which ids transformers puts around a
 * text when it becomes model input (`tokenizer(text)`, `add_special_tokens=True`). As
 * transformers (5.x, `TokenizersBackend`) decides it:
 *
 * - `tokenizer_config.json` naming `add_bos_token` or `add_eos_token` replaces the
 *   post-processor: BOS before the text when `add_bos_token`, EOS after it when
 *   `add_eos_token` (the one not named counts as false). Llama-2, Mistral, Gemma, Qwen.
 * - Otherwise `tokenizer.json`'s `post_processor` decides: `TemplateProcessing`'s `single`
 *   template (Llama-3.x: `<|begin_of_text|> $A`), alone or inside a `Sequence`;
 *   `RobertaProcessing` and `BertProcessing` put `cls` before and `sep` after; `ByteLevel`
 *   only trims offsets and adds nothing; no post-processor adds nothing.
 *
 * A kind not listed, or a template naming a token it does not define, is an error naming the
 * file and the field: never silently no BOS.
 */
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { SpecialTokenRule } from './tokenizer-contract.ts';

type Json = Record<string, unknown>;

/** The rule that adds nothing: byte/GPT-2 and checkpoints made before special tokens were applied. */
export function noSpecialTokens(source: string): SpecialTokenRule {
  return { prefix: [], suffix: [], source, name: 'none' };
}

/**
 * Reads the rule from a directory's parsed `tokenizer.json` and `tokenizer_config.json`.
 * `idOf` maps a token string to its id (undefined when the vocabulary lacks it).
 */
export function readSpecialTokenRule(dir: string, tokenizerJson: Json, tokConfig: Json, idOf: (token: string) => number | undefined): SpecialTokenRule {
  const configFile = join(dir, 'tokenizer_config.json');
  if ('add_bos_token' in tokConfig || 'add_eos_token' in tokConfig) return fromFlags(configFile, tokConfig, idOf);
  const file = join(dir, 'tokenizer.json');
  const parts = processorParts(file, 'post_processor', tokenizerJson.post_processor);
  const kinds = parts.kinds.length ? parts.kinds.join(', ') : 'none';
  return { prefix: parts.prefix, suffix: parts.suffix, source: `${file}: post_processor (${kinds})`, name: 'transformers' };
}

/** `add_bos_token` / `add_eos_token`: the tokens named by `bos_token` / `eos_token`. */
function fromFlags(file: string, c: Json, idOf: (token: string) => number | undefined): SpecialTokenRule {
  const side = (flag: 'add_bos_token' | 'add_eos_token', role: 'bos_token' | 'eos_token'): number[] => {
    const on = c[flag];
    if (on === undefined || on === null || on === false) return [];
    if (on !== true) throw new BonsaiError(`${file}: ${flag} must be true or false, got ${JSON.stringify(on)}`);
    const token = tokenString(c[role]);
    if (token === undefined) throw new BonsaiError(`${file}: ${flag} is true but ${role} is not set`, { hint: `name the token in ${role}, or set ${flag} to false` });
    const id = idOf(token);
    if (id === undefined) throw new BonsaiError(`${file}: ${role} ${JSON.stringify(token)} (added by ${flag}) is not in the tokenizer's vocabulary`);
    return [id];
  };
  const prefix = side('add_bos_token', 'bos_token');
  const suffix = side('add_eos_token', 'eos_token');
  return { prefix, suffix, source: `${file}: add_bos_token ${prefix.length > 0}, add_eos_token ${suffix.length > 0}`, name: 'transformers' };
}

interface Parts {
  prefix: number[];
  suffix: number[];
  kinds: string[];
}

/** One post-processor (or a Sequence of them), applied in order: each wraps what the ones before made. */
function processorParts(file: string, field: string, p: unknown): Parts {
  if (p === undefined || p === null) return { prefix: [], suffix: [], kinds: [] };
  const fail = (what: string): never => {
    throw new BonsaiError(`${file}: ${field}${what.startsWith('.') ? '' : ' '}${what}`);
  };
  if (typeof p !== 'object' || Array.isArray(p)) fail(`must be an object, got ${JSON.stringify(p)}`);
  const o = p as Json;
  switch (o.type) {
    case 'ByteLevel':
      return { prefix: [], suffix: [], kinds: ['ByteLevel'] };
    case 'Sequence': {
      if (!Array.isArray(o.processors)) fail('.processors must be a list');
      const out: Parts = { prefix: [], suffix: [], kinds: [] };
      (o.processors as unknown[]).forEach((q, i) => {
        const inner = processorParts(file, `${field}.processors[${i}]`, q);
        out.prefix = [...inner.prefix, ...out.prefix];
        out.suffix = [...out.suffix, ...inner.suffix];
        out.kinds.push(...inner.kinds);
      });
      return out;
    }
    case 'TemplateProcessing':
      return { ...template(file, field, o), kinds: ['TemplateProcessing'] };
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const pair = (key: 'cls' | 'sep'): number => {
        const v = o[key];
        if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isInteger(v[1])) fail(`.${key} must be [token, id], got ${JSON.stringify(v)}`);
        return (v as [string, number])[1];
      };
      return { prefix: [pair('cls')], suffix: [pair('sep')], kinds: [o.type] };
    }
    default:
      return fail(`.type ${JSON.stringify(o.type)} is a post-processor bonsai does not implement (it reads TemplateProcessing, Sequence, ByteLevel, RobertaProcessing and BertProcessing)`);
  }
}

/** TemplateProcessing's `single`: the special tokens before and after `$A` (their ids from `special_tokens`, as the tokenizers library requires). */
function template(file: string, field: string, o: Json): { prefix: number[]; suffix: number[] } {
  const fail = (what: string): never => {
    throw new BonsaiError(`${file}: ${field}.${what}`);
  };
  if (!Array.isArray(o.single)) fail(`single must be a list of {"SpecialToken"} / {"Sequence"} pieces, got ${JSON.stringify(o.single)}`);
  const specials = (o.special_tokens ?? {}) as Record<string, { ids?: unknown }>;
  const prefix: number[] = [];
  const suffix: number[] = [];
  let seenA = false;
  (o.single as unknown[]).forEach((piece, i) => {
    const p = (piece ?? {}) as { SpecialToken?: { id?: unknown }; Sequence?: { id?: unknown } };
    if (p.Sequence) {
      if (p.Sequence.id !== 'A' || seenA) fail(`single[${i}] is sequence ${JSON.stringify(p.Sequence.id)}; a single-text template holds sequence "A" once`);
      seenA = true;
    } else if (p.SpecialToken && typeof p.SpecialToken.id === 'string') {
      const name = p.SpecialToken.id;
      const ids = specials[name]?.ids;
      if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id) && id >= 0)) fail(`single[${i}] names special token ${JSON.stringify(name)}, which special_tokens does not define`);
      (seenA ? suffix : prefix).push(...(ids as number[]));
    } else fail(`single[${i}] is ${JSON.stringify(piece)}, neither {"SpecialToken": {"id"}} nor {"Sequence": {"id": "A"}}`);
  });
  if (!seenA) fail('single has no {"Sequence": {"id": "A"}}: the text would be dropped');
  return { prefix, suffix };
}

/** `"<s>"` or an AddedToken dict `{ content: "<s>", ... }` → the string. */
export function tokenString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string;
  return undefined;
}
