/**
 * What every tokenizer is, apart from how each kind is built: the Tokenizer contract, the
 * Hugging Face extension of it (special tokens, chat template), and the special-token rule
 * that turns a text into a model's input ids. A leaf module: tokenizer.ts (the kinds) and
 * hf-tokenizer.ts (tokenizer.json) both implement it, neither imports the other's types.
 */

/** The kinds of tokenizer a recipe can name. */
export type TokenizerKind = 'byte' | 'gpt2' | 'hf';

/**
 * The special tokens a tokenizer puts around a text when it becomes model input, as
 * transformers' `tokenizer(text)` (`add_special_tokens=True`) does: e.g. Llama-3's
 * `<|begin_of_text|>` before it. Read by special-tokens.ts; applied by input-ids.ts only.
 */
export interface SpecialTokenRule {
  /** Ids before the text (BOS). */
  readonly prefix: readonly number[];
  /** Ids after the text (EOS under `add_eos_token`); a document ends with them, a prompt does not. */
  readonly suffix: readonly number[];
  /** Where the rule comes from, for logs and notes: e.g. `tokenizer.json post_processor (TemplateProcessing)`. */
  readonly source: string;
  /** How a checkpoint records it: `transformers` (the rule above, read from the files) or `none` (text alone: checkpoints made before the rule existed). */
  readonly name: SpecialTokenRuleName;
}

/** A checkpoint's record of the rule its run used (config.json `special_tokens`). */
export type SpecialTokenRuleName = 'transformers' | 'none';

/** Text ↔ token ids. `encode` never emits `eosId`; `decode` drops it. */
export interface Tokenizer {
  readonly kind: TokenizerKind;
  /** Number of ids, i.e. every id is in [0, vocabSize). */
  readonly vocabSize: number;
  /** End-of-sequence id: appended after each JSONL example, and where sampling stops. */
  readonly eosId: number;
  /**
   * The special tokens model input gets around a text (input-ids.ts applies them). Absent:
   * none (the byte and GPT-2 tokenizers, whose models never saw a BOS).
   */
  readonly specialTokenRule?: SpecialTokenRule;
  /** Text → ids. Special-token strings in the text (e.g. "<|endoftext|>") stay plain text. */
  encode(text: string): number[];
  /** Ids → text. Skips EOS; ids that cannot be decoded become U+FFFD. Never throws. */
  decode(ids: number[]): string;
}

/** One chat turn, as in a `messages` prompt. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Sampling defaults a model directory's generation_config.json gives (`model.generate()`'s). */
export interface GenerationDefaults {
  doSample?: boolean;
  temperature?: number;
  topP?: number;
  topK?: number;
  /** The file they were read from, for the run's params. */
  file: string;
}

/**
 * bonsai's Tokenizer contract (encode never emits a special id, decode drops EOS), with
 * `kind: 'hf'`, plus what chat models need: every end-of-sequence id, special-aware
 * encoding and the chat template.
 */
export interface HfTokenizer extends Tokenizer {
  readonly kind: 'hf';
  readonly specialTokenRule: SpecialTokenRule;
  /** Every id that ends a generation (generation_config's list, else the config's one). */
  readonly eosIds: readonly number[];
  readonly bosId: number | undefined;
  /** Special token strings by role (`bos_token`, `eos_token`, `pad_token`, `unk_token`). */
  readonly specialTokens: Readonly<Record<string, string>>;
  /** generation_config.json's sampling fields (only those the file names). */
  readonly generationDefaults: GenerationDefaults | undefined;
  /** The model directory the files were read from (for messages naming them). */
  readonly dir: string;
  /** Text → ids where special-token strings (e.g. from a rendered chat) become their ids. */
  encodeWithSpecials(text: string): number[];
  /** Renders `chat_template` for `messages`; throws a BonsaiError naming the field on failure. */
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  /**
   * The files that rebuild this tokenizer in another directory (a bonsai checkpoint):
   * tokenizer.json and tokenizer_config.json as read, and a generation_config.json whose
   * eos_token_id is `eosIds` (it may have come from config.json, which a checkpoint replaces).
   */
  files(): Record<string, string>;
}

/** The tokenizer as a Hugging Face one (special tokens, chat template), or undefined for byte/gpt2. */
export function asHfTokenizer(tok: Tokenizer): HfTokenizer | undefined {
  return tok.kind === 'hf' ? (tok as HfTokenizer) : undefined;
}
