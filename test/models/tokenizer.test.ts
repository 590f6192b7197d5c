import { describe, expect, it } from 'vitest';
import { BonsaiError } from '../../src/errors.ts';
import { createTokenizer, type TokenizerKind } from '../../src/models/tokenizer.ts';

const SAMPLES = [
  'Hello, world!',
  'naïve café 🌱🌳 bonsai', // Latin-1 and 4-byte emoji
  '盆栽は小さな木です。', // CJK: 3-byte UTF-8, multi-token in GPT-2
  '',
  'tabs\tand\nnewlines\r\n',
];

// hf: the llama3 fixture's byte-level BPE, whose end-of-sequence ids are <|endoftext|> 280 and <|im_end|> 282.
describe.each<TokenizerKind>(['byte', 'gpt2', 'hf'])('%s tokenizer', (kind) => {
  const tok = createTokenizer(kind, kind === 'hf' ? 'test/fixtures/hf/llama3' : undefined);

  it.each(SAMPLES)('round-trips %j', (text) => {
    const ids = tok.encode(text);
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize)).toBe(true);
    expect(tok.decode(ids)).toBe(text);
  });

  it('keeps "<|endoftext|>" in user text as plain text, never the EOS id', () => {
    const text = 'a<|endoftext|>b';
    const ids = tok.encode(text);
    expect(ids).not.toContain(tok.eosId);
    expect(tok.decode(ids)).toBe(text);
  });

  it('decode skips EOS', () => {
    expect(tok.decode([...tok.encode('hi'), tok.eosId, ...tok.encode(' there')])).toBe('hi there');
  });

  it('decode never throws on ids outside the vocabulary', () => {
    expect(tok.decode([...tok.encode('a'), tok.vocabSize + 5, -1, ...tok.encode('b')])).toBe('a\uFFFD\uFFFDb');
  });
});

describe('byte tokenizer', () => {
  const tok = createTokenizer('byte');

  it('has 256 byte ids plus EOS 256', () => {
    expect(tok.vocabSize).toBe(257);
    expect(tok.eosId).toBe(256);
    expect(tok.encode('A€')).toEqual([0x41, 0xe2, 0x82, 0xac]);
  });

  it('decodes invalid UTF-8 leniently to U+FFFD', () => {
    expect(tok.decode([0x41, 0xe2, 0x82])).toBe('A\uFFFD'); // a truncated '€'
    expect(tok.decode([0xff, 0x42])).toBe('\uFFFDB');
  });
});

describe('gpt2 tokenizer', () => {
  const tok = createTokenizer('gpt2');

  it('matches GPT-2 ids', () => {
    expect(tok.vocabSize).toBe(50257);
    expect(tok.eosId).toBe(50256);
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
  });
});

it('unknown kind is a BonsaiError', () => {
  expect(() => createTokenizer('sentencepiece' as TokenizerKind)).toThrow(BonsaiError);
});

it('hf needs the model directory, and names its missing tokenizer.json', () => {
  expect(() => createTokenizer('hf')).toThrow(/tokenizer hf reads tokenizer\.json from the model directory/);
  expect(() => createTokenizer('hf', 'test/fixtures/gpt2-tiny')).toThrow('test/fixtures/gpt2-tiny/tokenizer.json: missing');
});
