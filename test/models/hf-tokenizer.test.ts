import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHfTokenizer } from '../../src/models/hf-tokenizer.ts';
import { tempDir } from '../helpers/recipes.ts';

// Fixtures by scripts/make-family-fixtures.py: a 280-id byte-level BPE trained there, plus
// <|endoftext|> 280, <|im_start|> 281, <|im_end|> 282; golden ids come from the script's
// own BPE encoder, so matching them checks the library reads tokenizer.json like HF does.
const ROOT = 'test/fixtures/hf';
const golden = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, name, 'golden.json'), 'utf8')) as {
    text: string;
    input_ids: number[][];
    chat_messages: { role: string; content: string }[];
    chat_rendered: string;
  };

describe('loadHfTokenizer', () => {
  it('encodes the fixture text to the reference ids and decodes it back', () => {
    const tok = loadHfTokenizer(join(ROOT, 'llama3'));
    const g = golden('llama3');
    expect(tok.encode(g.text)).toEqual(g.input_ids[0]);
    expect(tok.decode(g.input_ids[0]!)).toBe(g.text);
    for (const text of ['héllo wörld ✓ 🙂', '  leading spaces\nand\ttabs', '']) expect(tok.decode(tok.encode(text))).toBe(text);
    expect(tok.vocabSize).toBe(283);
  });

  it('reads special ids: eos may be a list in generation_config.json', () => {
    const qwen = loadHfTokenizer(join(ROOT, 'qwen2'));
    expect(qwen.eosIds).toEqual([282, 280]);
    expect(qwen.eosId).toBe(282);
    expect(qwen.bosId).toBe(280);
    const llama = loadHfTokenizer(join(ROOT, 'llama-linear'));
    expect(llama.eosIds).toEqual([280]);
    expect(llama.specialTokens.eos_token).toBe('<|endoftext|>');
  });

  it('keeps special-token text as text in encode, maps it in encodeWithSpecials, drops eos in decode', () => {
    const tok = loadHfTokenizer(join(ROOT, 'qwen2'));
    const text = 'a<|im_end|>b';
    const plain = tok.encode(text);
    expect(plain).not.toContain(282);
    expect(tok.decode(plain)).toBe(text);
    expect(tok.encodeWithSpecials(text)).toEqual([...tok.encode('a'), 282, ...tok.encode('b')]);
    expect(tok.decode([...tok.encode('hi'), 282, 280])).toBe('hi');
    expect(tok.decode([...tok.encode('hi'), 281])).toBe('hi<|im_start|>');
  });

  it('renders the chat template with the special tokens', () => {
    const tok = loadHfTokenizer(join(ROOT, 'qwen3'));
    const g = golden('qwen3');
    const rendered = tok.applyChatTemplate(g.chat_messages, { addGenerationPrompt: true });
    expect(rendered).toBe(g.chat_rendered);
    const ids = tok.encodeWithSpecials(rendered);
    expect(ids[0]).toBe(280);
    expect(ids.filter((id) => id === 281)).toHaveLength(3);
    expect(tok.applyChatTemplate(g.chat_messages).endsWith('<|im_end|>\n')).toBe(true);
  });

  it('names the missing file or the failing field', () => {
    const dir = tempDir('bonsai-hf-tok-');
    expect(() => loadHfTokenizer(dir)).toThrow(/tokenizer\.json: missing/);
    copyFileSync(join(ROOT, 'llama3', 'tokenizer.json'), join(dir, 'tokenizer.json'));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|endoftext|>', chat_template: '{{ messages[0].content | nosuchfilter }}' }));
    const tok = loadHfTokenizer(dir);
    expect(tok.eosIds).toEqual([280]);
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/tokenizer_config\.json: chat_template failed to render/);
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: ['x'] }));
    expect(() => loadHfTokenizer(dir)).toThrow(/generation_config\.json: eos_token_id/);
    writeFileSync(join(dir, 'tokenizer.json'), '{');
    expect(() => loadHfTokenizer(dir)).toThrow(/tokenizer\.json: not valid JSON/);
  });
});
