import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { jsonlDataset, textDataset } from '../../src/data/load.ts';
import { loadPromptData } from '../../src/data/prompts.ts';
import { encodeText } from '../../src/server/texts.ts';
import { loadHfTokenizer } from '../../src/models/hf-tokenizer.ts';
import { documentInputIds, promptInputIds, renderedInputIds } from '../../src/models/input-ids.ts';
import { createTokenizer, tokenizerRecord } from '../../src/models/tokenizer.ts';
import { tempDir } from '../helpers/recipes.ts';

// The llama3 fixture's tokenizer (283 ids: <|endoftext|> 280, <|im_start|> 281, <|im_end|> 282),
// with its special-token settings rewritten case by case.
const FIXTURE = 'test/fixtures/hf/llama3';
const root = tempDir('bonsai-special-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const BOS = 280;
const template = (single: unknown[], specials: Record<string, number[]> = { '<|endoftext|>': [BOS] }) => ({
  type: 'TemplateProcessing',
  single,
  pair: [],
  special_tokens: Object.fromEntries(Object.entries(specials).map(([k, ids]) => [k, { id: k, ids, tokens: [k] }])),
});
const tokenPiece = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
const A = { Sequence: { id: 'A', type_id: 0 } };

/** A copy of the fixture with `post_processor` and tokenizer_config.json changes. */
function dirWith(postProcessor: unknown, config: Record<string, unknown> = {}, drop: string[] = ['add_bos_token', 'add_eos_token']): string {
  const dir = join(root, `t${n++}`);
  cpSync(FIXTURE, dir, { recursive: true });
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  tok.post_processor = postProcessor;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok));
  const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  for (const k of drop) delete cfg[k];
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...cfg, ...config }));
  return dir;
}

const llama32 = () => dirWith({ type: 'Sequence', processors: [{ type: 'ByteLevel' }, template([tokenPiece('<|endoftext|>'), A])] });

describe('the special-token rule (as transformers applies it)', () => {
  const plain = loadHfTokenizer(FIXTURE);
  const text = 'the cat sat';
  const ids = plain.encode(text);

  it('TemplateProcessing inside a Sequence (Llama-3.x) puts its BOS first', () => {
    const tok = loadHfTokenizer(llama32());
    expect(tok.specialTokenRule).toMatchObject({ prefix: [BOS], suffix: [], name: 'transformers' });
    expect(tok.specialTokenRule.source).toMatch(/tokenizer\.json: post_processor \(ByteLevel, TemplateProcessing\)/);
    expect(promptInputIds(tok, text)).toEqual([BOS, ...ids]);
    expect(documentInputIds(tok, text)).toEqual([BOS, ...ids]);
    expect(tok.encode(text)).toEqual(ids); // encode stays the text alone
  });

  it('TemplateProcessing alone, with a token after the text too', () => {
    const tok = loadHfTokenizer(dirWith(template([tokenPiece('<|endoftext|>'), A, tokenPiece('<|im_end|>')], { '<|endoftext|>': [BOS], '<|im_end|>': [282] })));
    expect(promptInputIds(tok, text)).toEqual([BOS, ...ids]); // a prompt is continued: no suffix
    expect(documentInputIds(tok, text)).toEqual([BOS, ...ids, 282]);
  });

  it('ByteLevel alone (some Llama-3 copies), no post-processor, and add_bos_token false add nothing', () => {
    for (const dir of [dirWith({ type: 'ByteLevel' }), dirWith(null), FIXTURE]) expect(promptInputIds(loadHfTokenizer(dir), text)).toEqual(ids);
  });

  it("tokenizer_config.json's add_bos_token / add_eos_token replace the post-processor (Llama-2, Mistral, Gemma)", () => {
    const bos = loadHfTokenizer(dirWith({ type: 'ByteLevel' }, { add_bos_token: true }));
    expect(bos.specialTokenRule.source).toMatch(/tokenizer_config\.json: add_bos_token true, add_eos_token false/);
    expect(documentInputIds(bos, text)).toEqual([BOS, ...ids]);
    const both = loadHfTokenizer(dirWith({ type: 'ByteLevel' }, { add_bos_token: true, add_eos_token: true, eos_token: '<|im_end|>' }));
    expect(documentInputIds(both, text)).toEqual([BOS, ...ids, 282]);
    // add_bos_token false beats a template that would add one, as in transformers.
    const off = loadHfTokenizer(dirWith(template([tokenPiece('<|endoftext|>'), A]), { add_bos_token: false }));
    expect(promptInputIds(off, text)).toEqual(ids);
  });

  it('RobertaProcessing and BertProcessing put cls before and sep after', () => {
    const tok = loadHfTokenizer(dirWith({ type: 'RobertaProcessing', cls: ['<|im_start|>', 281], sep: ['<|im_end|>', 282], trim_offsets: true, add_prefix_space: false }));
    expect(documentInputIds(tok, text)).toEqual([281, ...ids, 282]);
    const bert = loadHfTokenizer(dirWith({ type: 'BertProcessing', cls: ['<|im_start|>', 281], sep: ['<|im_end|>', 282] }));
    expect(promptInputIds(bert, text)).toEqual([281, ...ids]);
  });

  it('refuses what it does not implement, naming the file and the field: never silently no BOS', () => {
    const err = (dir: () => string) => {
      try {
        loadHfTokenizer(dir());
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(() => dirWith({ type: 'Sequence', processors: [{ type: 'ByteLevel' }, { type: 'FancyProcessing' }] }))).toMatch(
      /tokenizer\.json: post_processor\.processors\[1\]\.type "FancyProcessing" is a post-processor bonsai does not implement/,
    );
    expect(err(() => dirWith(template([tokenPiece('<|begin_of_text|>'), A])))).toMatch(/post_processor\.single\[0\] names special token "<\|begin_of_text\|>", which special_tokens does not define/);
    expect(err(() => dirWith(template([tokenPiece('<|endoftext|>')])))).toMatch(/post_processor\.single has no \{"Sequence": \{"id": "A"\}\}/);
    expect(err(() => dirWith(null, { add_bos_token: true, bos_token: null }))).toMatch(/tokenizer_config\.json: add_bos_token is true but bos_token is not set/);
    expect(err(() => dirWith(null, { add_bos_token: true, bos_token: '<|nope|>' }))).toMatch(/bos_token "<\|nope\|>" \(added by add_bos_token\) is not in the tokenizer's vocabulary/);
    expect(err(() => dirWith(null, { add_eos_token: 'yes' }))).toMatch(/add_eos_token must be true or false/);
  });

  it('byte and GPT-2 tokenizers are unchanged', () => {
    for (const kind of ['byte', 'gpt2'] as const) {
      const tok = createTokenizer(kind);
      expect(promptInputIds(tok, text)).toEqual(tok.encode(text));
      expect(documentInputIds(tok, text)).toEqual(tok.encode(text));
      expect(tokenizerRecord(tok)).toEqual({ tokenizer: kind });
    }
  });
});

describe('rendered text gets one BOS', () => {
  const tok = loadHfTokenizer(llama32());
  const noBosTemplate = loadHfTokenizer(
    dirWith({ type: 'Sequence', processors: [{ type: 'ByteLevel' }, template([tokenPiece('<|endoftext|>'), A])] }, {
      chat_template: "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    }),
  );
  const messages = [{ role: 'user', content: 'hi' }];

  it('a template that renders bos_token keeps its one BOS, with a note said once', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const rendered = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
      expect(rendered.startsWith('<|endoftext|>')).toBe(true);
      const ids = renderedInputIds(tok, rendered);
      expect(ids.filter((id) => id === BOS)).toHaveLength(1);
      expect(ids[0]).toBe(BOS);
      renderedInputIds(tok, rendered);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/renders the BOS itself; bonsai adds no second one/);
    } finally {
      warn.mockRestore();
    }
  });

  it("a template that does not render it gets the tokenizer's BOS", () => {
    const rendered = noBosTemplate.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(renderedInputIds(noBosTemplate, rendered)).toEqual([BOS, ...noBosTemplate.encodeWithSpecials(rendered)]);
  });

  it("the reward server: a query already holding the template's text gets no second BOS, plain text gets one", () => {
    const rendered = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(encodeText(tok, { prompt: rendered, completion: 'x' }).promptIds).toEqual(tok.encodeWithSpecials(rendered));
    expect(encodeText(tok, { prompt: 'the cat', completion: 'x' }).promptIds).toEqual([BOS, ...tok.encode('the cat')]);
  });

  it('SFT text, prompt/completion and messages lines, the text format and RL prompts start with one BOS', () => {
    const lines = [
      JSON.stringify({ text: 'the cat sat' }),
      JSON.stringify({ prompt: 'the cat', completion: ' sat' }),
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }] }),
      JSON.stringify({ messages: [{ role: 'assistant', content: 'only me' }] }),
    ].join('\n');
    const ds = jsonlDataset(lines, 'x.jsonl', tok, 40);
    for (const ex of ds.examples) {
      expect(ex.ids[0]).toBe(BOS);
      expect(ex.ids[1]).not.toBe(BOS);
      expect(ex.lossMask[0]).toBe(0);
    }
    // A text line trains on every token of the text (the first is predicted from the BOS).
    const textIds = tok.encode('the cat sat');
    expect(Array.from(ds.examples[0]!.lossMask.slice(1, textIds.length + 2))).toEqual(new Array(textIds.length + 1).fill(1));
    const corpus = textDataset('the cat sat on the mat. '.repeat(5), 'c.txt', tok, 16);
    expect(corpus.examples[0]!.ids[0]).toBe(BOS);
    expect(corpus.examples[1]!.ids[0]).not.toBe(BOS);
    const path = join(root, 'prompts.jsonl');
    writeFileSync(path, [JSON.stringify({ prompt: 'the cat' }), JSON.stringify({ messages })].join('\n'));
    const [p, m] = loadPromptData(path, tok).map((d) => d.ids ?? promptInputIds(tok, d.prompt));
    expect(p).toEqual([BOS, ...tok.encode('the cat')]);
    expect(m!.filter((id) => id === BOS)).toHaveLength(1);
  });
});

describe('checkpoints record the rule', () => {
  it('an hf checkpoint without special_tokens (written before the rule) feeds the text alone; one recording it feeds the BOS', () => {
    const dir = llama32();
    const legacy = join(root, 'legacy');
    cpSync(dir, legacy, { recursive: true });
    writeFileSync(join(legacy, 'config.json'), JSON.stringify({ format: 'bonsai-checkpoint-1', tokenizer: 'hf', model: {} }));
    const old = createTokenizer('hf', legacy);
    expect(old.specialTokenRule).toMatchObject({ prefix: [], name: 'none' });
    expect(tokenizerRecord(old)).toEqual({ tokenizer: 'hf', specialTokens: 'none' });
    expect(promptInputIds(old, 'the cat')).toEqual(old.encode('the cat'));
    writeFileSync(join(legacy, 'config.json'), JSON.stringify({ format: 'bonsai-checkpoint-1', tokenizer: 'hf', special_tokens: 'transformers', model: {} }));
    expect(promptInputIds(createTokenizer('hf', legacy), 'the cat')[0]).toBe(BOS);
    // A resumed run may force the rule its checkpoint used.
    expect(createTokenizer('hf', dir, 'none').specialTokenRule?.prefix).toEqual([]);
  });
});
