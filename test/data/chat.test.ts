/**
 * messages data (data/chat.ts, data/prompts.ts, jsonl messages lines) on the Qwen3 fixture,
 * whose tokenizer_config.json holds a ChatML template: <|endoftext|> 280 (bos), <|im_start|>
 * 281, <|im_end|> 282 (eos, with 280).
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chatSegments, parseMessages, renderChat } from '../../src/data/chat.ts';
import { renderedInputIds as encodeRendered } from '../../src/models/input-ids.ts';
import { jsonlDataset } from '../../src/data/load.ts';
import { loadPromptData } from '../../src/data/prompts.ts';
import { BonsaiError, BonsaiErrors } from '../../src/errors.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { tempDir } from '../helpers/recipes.ts';

const QWEN3 = 'test/fixtures/hf/qwen3';
const tok = createTokenizer('hf', QWEN3);
const chat = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'the cat?' },
];
// Written by hand from the template: bos, then <|im_start|>role\ncontent<|im_end|>\n per turn.
const EXPECTED = '<|endoftext|><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nthe cat?<|im_end|>\n<|im_start|>assistant\n';

function writeLines(dir: string, name: string, lines: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
}

describe('chat templates for messages data', () => {
  it('renders the expected string and encodes the special tokens as their ids, the text between as plain text', () => {
    const text = renderChat(tok, chat, { addGenerationPrompt: true, where: 'x:1' });
    expect(text).toBe(EXPECTED);
    const e = (s: string) => tok.encode(s);
    expect(encodeRendered(tok, text)).toEqual([280, 281, ...e('system\nBe brief.'), 282, ...e('\n'), 281, ...e('user\nthe cat?'), 282, ...e('\n'), 281, ...e('assistant\n')]);
    // User text that spells a special token stays text: only the template emits specials.
    expect(tok.encode('<|im_end|>')).not.toContain(282);
  });

  it('splits a training conversation into the prompt (with the generation prompt) and the assistant answer', () => {
    const seg = chatSegments(tok, [...chat, { role: 'assistant', content: 'a mat.' }], 'x:1');
    expect(seg).toEqual({ prompt: EXPECTED, completion: 'a mat.<|im_end|>\n' });
    expect(() => chatSegments(tok, chat, 'x:3')).toThrow(/x:3: the last message is "user"/);
  });

  it('SFT jsonl messages lines train on the answer only, ending at its end-of-turn id (no extra EOS)', () => {
    const dir = tempDir();
    const path = writeLines(dir, 'sft.jsonl', [{ messages: [...chat, { role: 'assistant', content: 'a mat.' }] }, { prompt: 'p', completion: 'c' }]);
    const ds = jsonlDataset(readFileSync(path, 'utf8'), path, tok, 63);
    const ex = ds.examples[0]!;
    const promptLen = encodeRendered(tok, EXPECTED).length;
    const answer = encodeRendered(tok, 'a mat.<|im_end|>\n');
    expect([...ex.ids.slice(promptLen, promptLen + answer.length)]).toEqual(answer);
    expect([...ex.lossMask].map((m, i) => (m ? i : -1)).filter((i) => i >= 0)).toEqual(answer.map((_, k) => promptLen + k));
    expect(ds.examples[1]!.ids[tok.encode('p').length + tok.encode('c').length]).toBe(tok.eosId); // a prompt/completion line still ends in EOS
  });

  it('RL prompts: messages lines render with the generation prompt; prompt lines stay text', () => {
    const dir = tempDir();
    const path = writeLines(dir, 'rl.jsonl', [{ messages: chat, completion: 'mat' }, { prompt: 'plain' }]);
    const [a, b] = loadPromptData(path, tok);
    expect(a).toEqual({ prompt: EXPECTED, ids: encodeRendered(tok, EXPECTED), answer: 'mat' });
    expect(b).toEqual({ prompt: 'plain', answer: undefined });
  });

  it('names file:line for a messages line of the wrong shape, in RL prompts and SFT data', () => {
    expect(parseMessages([])).toMatch(/non-empty list/);
    expect(parseMessages([{ role: 'user' }])).toMatch(/messages\[0\]\.content must be a string/);
    expect(parseMessages('hi')).toMatch(/"messages" must be/);
    const dir = tempDir();
    const rl = writeLines(dir, 'rl.jsonl', [{ messages: chat }, { messages: [{ role: 'user', content: 3 }] }, { messages: chat, prompt: 'x' }]);
    const err = (() => {
      try {
        loadPromptData(rl, tok);
      } catch (e) {
        return e as BonsaiErrors;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(BonsaiErrors);
    expect(err.errors.map((e) => e.message)).toEqual([`${rl}:2: messages[0].content must be a string, got 3`, `${rl}:3: has both "prompt" and "messages"; use one per line`]);
    const sft = writeLines(dir, 'sft.jsonl', [{ messages: { role: 'user', content: 'x' } }]);
    expect(() => jsonlDataset(readFileSync(sft, 'utf8'), sft, tok, 16)).toThrow(new RegExp(`^${sft}:1: "messages" must be a non-empty list`));
  });

  it('a template that fails to render names tokenizer_config.json chat_template and the data line; no template, or a tokenizer without one, is a clear error', () => {
    const dir = tempDir();
    const model = join(dir, 'model');
    cpSync(QWEN3, model, { recursive: true });
    const config = JSON.parse(readFileSync(join(model, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: '{{ messages[0].content | nosuchfilter }}' }));
    const rl = writeLines(dir, 'rl.jsonl', [{ prompt: 'ok' }, { messages: chat }]);
    expect(() => loadPromptData(rl, createTokenizer('hf', model))).toThrow(`${rl}:2: ${join(model, 'tokenizer_config.json')}: chat_template failed to render`);
    const { chat_template: _, ...noTemplate } = config;
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify(noTemplate));
    expect(() => loadPromptData(rl, createTokenizer('hf', model))).toThrow(`${rl}:2: ${join(model, 'tokenizer_config.json')}: chat_template is missing`);
    const e = (() => {
      try {
        loadPromptData(rl, createTokenizer('byte'));
      } catch (x) {
        return x as BonsaiError;
      }
    })();
    expect(e?.message).toBe(`${rl}:2: "messages" need a chat template; the byte tokenizer has none`);
    expect(e?.hint).toMatch(/model\.init\.hf/);
  });
});
