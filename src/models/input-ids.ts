/**
 * The one place that turns text into a model's input ids: the tokenizer's ids for the text
 * with the special tokens its rule puts around it (tokenizer-contract.ts `SpecialTokenRule`:
 * Llama-3's BOS, Gemma's `add_bos_token`; nothing for byte, GPT-2 and Qwen). Every path that
 * feeds a model text goes through here: SFT data, RL prompts, probes, diff, scrub, edit,
 * generate and the reward server.
 *
 * - Plain text (`promptInputIds`, `documentInputIds`) is encoded as text (special-token strings in it
 *   stay text) and gets the rule's prefix; a whole document also gets its suffix.
 * - Rendered text (a chat template's output, a reward-server query) is encoded special-aware
 *   and gets the prefix unless it already begins with it: a template that renders
 *   `{{ bos_token }}` (Llama-3, Gemma) keeps its one BOS, and bonsai notes once that it
 *   added none (transformers' `tokenizer(rendered)` would give two).
 */
import { asHfTokenizer, type Tokenizer } from './tokenizer-contract.ts';

/** ids.push(...more) without the argument-count limit (a long document is >100k ids). */
function concat(...parts: ReadonlyArray<readonly number[]>): number[] {
  const out: number[] = [];
  for (const p of parts) for (const id of p) out.push(id);
  return out;
}

const NONE: readonly number[] = [];

/** The ids before a text: the rule's prefix (BOS), or none. */
export function inputPrefix(tok: Tokenizer): readonly number[] {
  return tok.specialTokenRule?.prefix ?? NONE;
}

/** A text that starts model input and is continued (a prompt): prefix + text. */
export function promptInputIds(tok: Tokenizer, text: string): number[] {
  return concat(inputPrefix(tok), tok.encode(text));
}

/** A whole document (a text line, a corpus): prefix + text + suffix, as `tokenizer(text)` gives it. */
export function documentInputIds(tok: Tokenizer, text: string): number[] {
  return concat(inputPrefix(tok), tok.encode(text), tok.specialTokenRule?.suffix ?? NONE);
}

/**
 * Text a chat template rendered (or a client rendered the same way): special-token text
 * becomes its ids, and the prefix is added unless the ids already begin with it.
 * `continued`: the ids that follow in the same sequence when `text` is empty (an SFT line
 * whose only message is the answer), so the check looks at what really comes first.
 */
export function renderedInputIds(tok: Tokenizer, text: string, continued: readonly number[] = NONE): number[] {
  const hf = asHfTokenizer(tok);
  const ids = renderedTailIds(tok, text);
  const prefix = inputPrefix(tok);
  if (prefix.length === 0) return ids;
  const first = ids.length ? ids : continued;
  if (startsWith(first, prefix)) {
    noteOnce(tok, `note: the chat template of ${hf?.dir ?? 'the model'} renders the BOS itself; bonsai adds no second one (${tok.specialTokenRule!.source} would add it again to rendered text)`);
    return ids;
  }
  return concat(prefix, ids);
}

/** Rendered text that continues a sequence (an SFT answer after its prompt): special-aware, no prefix. */
export function renderedTailIds(tok: Tokenizer, text: string): number[] {
  const hf = asHfTokenizer(tok);
  return hf ? hf.encodeWithSpecials(text) : tok.encode(text);
}

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  return ids.length >= prefix.length && prefix.every((id, i) => ids[i] === id);
}

const noted = new Set<string>();

/** Says a note once per process (stderr): the same template is rendered for every line. */
function noteOnce(tok: Tokenizer, line: string): void {
  const key = `${asHfTokenizer(tok)?.dir ?? tok.kind}\n${line}`;
  if (noted.has(key)) return;
  noted.add(key);
  console.warn(`bonsai: ${line}`);
}
