/**
 * Tokenizers: a byte-level one (no files, 257 ids, good for tiny models and tests),
 * GPT-2's BPE (r50k_base, 50257 ids, for loading real GPT-2 weights), and a Hugging Face
 * model directory's `tokenizer.json` (hf-tokenizer.ts). Each reserves end-of-sequence ids
 * that user text can never produce, so EOS in the data is always a boundary we put there,
 * never a string a user happened to type.
 */
import { decode as gpt2Decode, encode as gpt2Encode } from 'gpt-tokenizer/encoding/r50k_base';
import { BonsaiError } from '../errors.ts';
import { loadHfTokenizer } from './hf-tokenizer.ts';
import { asHfTokenizer, type SpecialTokenRuleName, type Tokenizer, type TokenizerKind } from './tokenizer-contract.ts';

export { asHfTokenizer, type SpecialTokenRule, type SpecialTokenRuleName, type Tokenizer, type TokenizerKind } from './tokenizer-contract.ts';

/** Byte-level vocabulary: ids 0..255 are UTF-8 bytes, 256 is EOS. */
export const BYTE_EOS_ID = 256;
/** GPT-2's `<|endoftext|>` id in r50k_base. */
export const GPT2_EOS_ID = 50256;

const REPLACEMENT = '\uFFFD';

/** UTF-8 bytes as ids; the identity map makes encode/decode exact and dependency-free. */
class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte' as const;
  readonly vocabSize = 257;
  readonly eosId = BYTE_EOS_ID;
  private readonly encoder = new TextEncoder();
  // fatal: false turns invalid sequences (e.g. a model's half-emitted emoji) into U+FFFD.
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  encode(text: string): number[] {
    return Array.from(this.encoder.encode(text));
  }

  decode(ids: number[]): string {
    const bytes: number[] = [];
    let out = '';
    const flush = () => {
      if (bytes.length > 0) out += this.decoder.decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (const id of ids) {
      if (id === this.eosId) continue;
      if (Number.isInteger(id) && id >= 0 && id < 256) bytes.push(id);
      else {
        // An id outside the byte range (a model with a larger vocab) is not a byte; keep
        // the bytes around it intact and mark the gap.
        flush();
        out += REPLACEMENT;
      }
    }
    flush();
    return out;
  }
}

/** GPT-2 BPE via gpt-tokenizer's r50k_base tables. */
class Gpt2Tokenizer implements Tokenizer {
  readonly kind = 'gpt2' as const;
  readonly vocabSize = 50257;
  readonly eosId = GPT2_EOS_ID;

  encode(text: string): number[] {
    // gpt-tokenizer throws on special-token text by default and can map it to the special
    // id when allowed; an empty disallow set makes it ordinary text, which is what user
    // data is.
    return gpt2Encode(text, { allowedSpecial: new Set(), disallowedSpecial: new Set() });
  }

  decode(ids: number[]): string {
    let out = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) out += gpt2Decode(run);
      run = [];
    };
    for (const id of ids) {
      if (id === this.eosId) continue;
      if (Number.isInteger(id) && id >= 0 && id < this.vocabSize) run.push(id);
      else {
        flush();
        out += REPLACEMENT;
      }
    }
    flush();
    return out;
  }
}

/** A tokenizer kind: its help text, and how to build it (`dir`: the model directory, for kinds that read files). */
interface TokenizerKindSpec {
  describe: string;
  build(dir: string | undefined, rule?: SpecialTokenRuleName): Tokenizer;
}

/**
 * Every tokenizer kind (the recipe's `model.tokenizer`). Tokenizers are pure JS, so each
 * entry builds its tokenizer directly; the recipe's enum is the keys of this table. `hf`
 * reads its files from the model's directory: `model.init.hf`'s, or a bonsai checkpoint's
 * (which holds a copy of them, see tokenizerFiles).
 */
export const tokenizerKinds = {
  byte: { describe: 'one token per byte', build: (): Tokenizer => new ByteTokenizer() },
  gpt2: { describe: "GPT-2's BPE", build: (): Tokenizer => new Gpt2Tokenizer() },
  hf: {
    describe: "the model directory's tokenizer.json (Hugging Face; the default with init.hf; messages data is rendered with its chat_template)",
    build(dir: string | undefined, rule?: SpecialTokenRuleName): Tokenizer {
      if (dir === undefined) throw new BonsaiError('tokenizer hf reads tokenizer.json from the model directory', { hint: 'use it with model.init.hf, or model.init.checkpoint of a run that used it' });
      return loadHfTokenizer(dir, { rule });
    },
  },
} as const satisfies Record<TokenizerKind, TokenizerKindSpec>;

/**
 * Makes the tokenizer a recipe names; `dir` is the model directory (`hf` reads its tokenizer
 * files there). `rule` overrides the special-token rule an `hf` directory gives (a resumed
 * run keeps the one its checkpoint recorded).
 */
export function createTokenizer(kind: TokenizerKind, dir?: string, rule?: SpecialTokenRuleName): Tokenizer {
  const entry = (tokenizerKinds as Record<string, TokenizerKindSpec | undefined>)[kind];
  if (!entry) throw new BonsaiError(`unknown tokenizer "${String(kind)}"`, { hint: `use one of ${Object.keys(tokenizerKinds).join(', ')}` });
  return entry.build(dir, rule);
}

/**
 * What a checkpoint's config.json records of its tokenizer: the kind and, for `hf`, the
 * special-token rule its run used (`special_tokens`), so every reader feeds the same ids.
 */
export function tokenizerRecord(tok: Tokenizer): { tokenizer: TokenizerKind; specialTokens?: SpecialTokenRuleName } {
  return tok.kind === 'hf' ? { tokenizer: tok.kind, specialTokens: asHfTokenizer(tok)!.specialTokenRule.name } : { tokenizer: tok.kind };
}

/** Every id that ends a generation: a Hugging Face model may have several (eos as a list). */
export function endOfSequenceIds(tok: Tokenizer): number[] {
  return [...(asHfTokenizer(tok)?.eosIds ?? [tok.eosId])];
}

/**
 * The files a checkpoint must carry so that whoever loads it gets this tokenizer back
 * (`hf`: tokenizer.json and its configs; byte and gpt2 need none: the kind says it all).
 */
export function tokenizerFiles(tok: Tokenizer): Record<string, string> {
  return asHfTokenizer(tok)?.files() ?? {};
}
