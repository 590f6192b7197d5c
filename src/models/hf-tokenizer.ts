/**
 * A Hugging Face model directory's tokenizer: `tokenizer.json` through @huggingface/tokenizers
 * (a maintained pure-JS implementation of the format), special tokens from
 * `tokenizer_config.json` and `generation_config.json` (whose `eos_token_id` may be a list),
 * the special-token rule (special-tokens.ts), and the `chat_template` rendered with
 * @huggingface/jinja.
 */
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';
import { BonsaiError } from '../errors.ts';
import { checkpointRule, generationDefaults, idList, readJsonFile, type Json } from './hf-tokenizer-files.ts';
import { noSpecialTokens, readSpecialTokenRule, tokenString } from './special-tokens.ts';
import type { ChatMessage, GenerationDefaults, HfTokenizer, SpecialTokenRule, SpecialTokenRuleName } from './tokenizer-contract.ts';

export type { ChatMessage, HfTokenizer } from './tokenizer-contract.ts';

/** ids.push(...more) without the argument-count limit (a long document is >100k ids). */
function append(ids: number[], more: number[]): void {
  for (const id of more) ids.push(id);
}

/** What loadHfTokenizer read, for the tokenizer's constructor. */
interface HfTokenizerParts {
  dir: string;
  core: HfTokenizerCore;
  chatTemplate: string | undefined;
  special: Record<string, string>;
  eosIds: number[];
  rule: SpecialTokenRule;
  generation: GenerationDefaults | undefined;
  sources: { tokenizer: Json; tokenizerConfig?: Json; generationConfig: Json };
}

class HfDirTokenizer implements HfTokenizer {
  readonly kind = 'hf' as const;
  readonly dir: string;
  readonly vocabSize: number;
  readonly eosId: number;
  readonly eosIds: readonly number[];
  readonly bosId: number | undefined;
  readonly specialTokens: Readonly<Record<string, string>>;
  readonly specialTokenRule: SpecialTokenRule;
  readonly generationDefaults: GenerationDefaults | undefined;
  private readonly core: HfTokenizerCore;
  private readonly chatTemplate: string | undefined;
  private readonly sources: HfTokenizerParts['sources'];
  private readonly specialStrings: string[];

  constructor(p: HfTokenizerParts) {
    ({ dir: this.dir, core: this.core, chatTemplate: this.chatTemplate, sources: this.sources } = p);
    // A loop, not Math.max(...ids): real vocabularies (Qwen's 151k) overflow the argument limit.
    let maxId = -1;
    for (const id of p.core.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.specialTokens = p.special;
    this.eosIds = p.eosIds;
    this.eosId = p.eosIds[0]!;
    this.bosId = p.special.bos_token === undefined ? undefined : p.core.token_to_id(p.special.bos_token);
    this.specialTokenRule = p.rule;
    this.generationDefaults = p.generation;
    const added = [...p.core.get_added_tokens_decoder().entries()].filter(([, t]) => t.special);
    // Longest first so "<|im_start|>" wins over a prefix of it.
    this.specialStrings = added.map(([, t]) => t.content).sort((a, b) => b.length - a.length);
  }

  encode(text: string): number[] {
    // The library always maps special-token text to its id; user text must stay text, so
    // each occurrence is encoded as its first character plus the rest (ordinary tokens).
    const ids: number[] = [];
    let rest = text;
    while (rest.length > 0) {
      const hit = this.firstSpecial(rest);
      if (!hit) {
        append(ids, this.raw(rest));
        break;
      }
      if (hit.at > 0) append(ids, this.raw(rest.slice(0, hit.at)));
      const first = String.fromCodePoint(hit.token.codePointAt(0)!); // whole code point, never half a surrogate pair
      append(ids, this.raw(first));
      append(ids, this.raw(hit.token.slice(first.length)));
      rest = rest.slice(hit.at + hit.token.length);
    }
    return ids;
  }

  encodeWithSpecials(text: string): number[] {
    return this.raw(text);
  }

  decode(ids: number[]): string {
    const eos = new Set(this.eosIds);
    const valid = ids.filter((id) => !eos.has(id));
    const out: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) out.push(this.core.decode(run, { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
      run = [];
    };
    for (const id of valid) {
      if (Number.isInteger(id) && id >= 0 && id < this.vocabSize) run.push(id);
      else {
        flush();
        out.push('\uFFFD');
      }
    }
    flush();
    return out.join('');
  }

  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    const where = `${join(this.dir, 'tokenizer_config.json')}: chat_template`;
    if (this.chatTemplate === undefined) {
      throw new BonsaiError(`${where} is missing`, { hint: 'prompts given as messages need a model with a chat template' });
    }
    try {
      return new Template(this.chatTemplate).render({
        messages,
        add_generation_prompt: opts.addGenerationPrompt ?? false,
        ...this.specialTokens,
      });
    } catch (e) {
      throw new BonsaiError(`${where} failed to render: ${(e as Error).message}`, { cause: e });
    }
  }

  files(): Record<string, string> {
    const out: Record<string, string> = { 'tokenizer.json': JSON.stringify(this.sources.tokenizer) };
    if (this.sources.tokenizerConfig) out['tokenizer_config.json'] = JSON.stringify(this.sources.tokenizerConfig, null, 2);
    out['generation_config.json'] = JSON.stringify({ ...this.sources.generationConfig, eos_token_id: this.eosIds.length === 1 ? this.eosIds[0] : this.eosIds }, null, 2);
    return out;
  }

  private raw(text: string): number[] {
    return this.core.encode(text, { add_special_tokens: false }).ids;
  }

  private firstSpecial(text: string): { at: number; token: string } | undefined {
    let best: { at: number; token: string } | undefined;
    for (const token of this.specialStrings) {
      const at = text.indexOf(token);
      if (at >= 0 && (!best || at < best.at)) best = { at, token };
    }
    return best;
  }
}

/**
 * Loads `dir/tokenizer.json` (required), `tokenizer_config.json` (special tokens, chat
 * template, add_bos_token), `generation_config.json` / `config.json` (eos ids, sampling
 * defaults; optional). The special-token rule is the files' (special-tokens.ts), except in a
 * bonsai checkpoint, whose config.json says which rule its run used; `opts.rule` overrides
 * both (a resumed run keeps its checkpoint's).
 */
export function loadHfTokenizer(dir: string, opts: { rule?: SpecialTokenRuleName } = {}): HfTokenizer {
  const tokenizerJson = readJsonFile(dir, 'tokenizer.json', true)!;
  const tokConfigRead = readJsonFile(dir, 'tokenizer_config.json', false);
  const tokConfig = tokConfigRead ?? {};
  const genConfig = readJsonFile(dir, 'generation_config.json', false) ?? {};
  const modelConfig = readJsonFile(dir, 'config.json', false) ?? {};
  // The post-processor is read first, so a kind bonsai does not implement is named by its field
  // (the library would only say it cannot build the tokenizer).
  const ruleName = opts.rule ?? checkpointRule(modelConfig) ?? 'transformers';
  const fromFlags = 'add_bos_token' in tokConfig || 'add_eos_token' in tokConfig;
  let core: HfTokenizerCore | undefined;
  const idOf = (t: string) => core!.token_to_id(t);
  let rule = ruleName === 'transformers' && !fromFlags ? readSpecialTokenRule(dir, tokenizerJson, tokConfig, idOf) : undefined;
  try {
    core = new HfTokenizerCore(tokenizerJson, tokConfig);
  } catch (e) {
    throw new BonsaiError(`${join(dir, 'tokenizer.json')}: cannot build a tokenizer (${(e as Error).message})`, { cause: e });
  }
  const special: Record<string, string> = {};
  for (const role of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
    const s = tokenString(tokConfig[role]);
    if (s !== undefined) special[role] = s;
  }
  const eosIds =
    idList(genConfig.eos_token_id, join(dir, 'generation_config.json') + ': eos_token_id') ??
    idList(modelConfig.eos_token_id, join(dir, 'config.json') + ': eos_token_id') ??
    (special.eos_token !== undefined ? idList(core.token_to_id(special.eos_token), join(dir, 'tokenizer_config.json') + ': eos_token') : undefined);
  if (!eosIds || eosIds.length === 0) {
    throw new BonsaiError(`${dir}: no end-of-sequence token`, {
      hint: 'set eos_token_id in generation_config.json or config.json, or eos_token in tokenizer_config.json',
    });
  }
  const template = tokConfig.chat_template;
  if (template !== undefined && typeof template !== 'string') {
    throw new BonsaiError(`${join(dir, 'tokenizer_config.json')}: chat_template must be a string (named templates are not supported)`);
  }
  rule ??=
    ruleName === 'none'
      ? noSpecialTokens(`${join(dir, 'config.json')}: a checkpoint whose run fed the text alone (written before bonsai applied the tokenizer's special tokens)`)
      : readSpecialTokenRule(dir, tokenizerJson, tokConfig, idOf);
  return new HfDirTokenizer({
    dir,
    core,
    chatTemplate: template,
    special,
    eosIds,
    rule,
    generation: generationDefaults(dir, genConfig),
    sources: { tokenizer: tokenizerJson, tokenizerConfig: tokConfigRead, generationConfig: genConfig },
  });
}
