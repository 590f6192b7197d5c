import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataset, unigramEntropyBits, Batcher } from '../../src/data/index.ts';
import { BonsaiError } from '../../src/errors.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { tempFile } from './helpers.ts';

const shipped = (name: string) => fileURLToPath(new URL(`../../data/${name}`, import.meta.url));

const byte = createTokenizer('byte');

describe('loadDataset', () => {
  it('text → windows over the byte stream', () => {
    const path = tempFile('a.txt', 'abcdefghij');
    const { examples, stats } = loadDataset({ format: 'text', path }, byte, 4);
    const text = examples.map((e) => String.fromCharCode(...e.ids.filter((x) => x > 0)));
    expect(text).toEqual(['abcde', 'efghi', 'ij']);
    expect(stats).toEqual({ file: path, examples: 3, tokens: 10, targets: 9, truncated: 0 });
  });

  it('jsonl prompt/completion → loss on completion + EOS only; truncation is counted', () => {
    const lines = [
      '{"prompt": "ab", "completion": "cd"}',
      '',
      '{"text": "xyz"}',
      '{"prompt": "p", "completion": "long answer"}',
    ];
    const path = tempFile('a.jsonl', lines.join('\n'));
    const { examples, stats } = loadDataset({ format: 'jsonl', path }, byte, 5);
    const [qa, text, long] = examples;
    expect(Array.from(qa!.ids)).toEqual([97, 98, 99, 100, 256, 0]);
    expect(Array.from(qa!.lossMask)).toEqual([0, 0, 1, 1, 1, 0]);
    expect(Array.from(text!.ids)).toEqual([120, 121, 122, 256, 0, 0]);
    expect(Array.from(text!.lossMask)).toEqual([0, 1, 1, 1, 0, 0]);
    expect(Array.from(long!.lossMask)).toEqual([0, 1, 1, 1, 1, 1]);
    expect(stats).toMatchObject({ examples: 3, tokens: 5 + 4 + 13, targets: 3 + 3 + 5, truncated: 1 });
  });

  it('a bad JSONL line is an error naming file:line', () => {
    const path = tempFile('bad.jsonl', '{"text": "ok"}\n{"prompt": 3, "completion": "x"}\n');
    expect(() => loadDataset({ format: 'jsonl', path }, byte, 8)).toThrow(`${path}:2: "prompt" must be a string`);
  });

  it('a missing file is an error naming the path', () => {
    const path = '/nonexistent/bonsai/train.txt';
    expect(() => loadDataset({ format: 'text', path }, byte, 8)).toThrow(BonsaiError);
    expect(() => loadDataset({ format: 'text', path }, byte, 8)).toThrow(path);
  });

  it('an empty dataset is an error', () => {
    expect(() => loadDataset({ format: 'text', path: tempFile('e.txt', 'a') }, byte, 8)).toThrow(/empty/);
    expect(() => loadDataset({ format: 'jsonl', path: tempFile('e.jsonl', '\n') }, byte, 8)).toThrow(/empty/);
  });

  it('loads the shipped corpus and QA set', () => {
    const gpt2 = createTokenizer('gpt2');
    const prose = loadDataset({ format: 'text', path: shipped('persuasion.txt') }, gpt2, 64);
    expect(prose.stats.tokens).toBeGreaterThan(50_000);
    const h = unigramEntropyBits(prose.examples);
    expect(h.bits).toBeGreaterThan(5);
    expect(h.bits).toBeLessThan(Math.log2(gpt2.vocabSize));
    const qa = loadDataset({ format: 'jsonl', path: shipped('tiny-qa.jsonl') }, byte, 64);
    expect(qa.stats).toMatchObject({ examples: 50, truncated: 0 });
    expect(new Batcher(qa.examples, { batchSize: 8, seed: 0 }).next().tokens).toBeGreaterThan(8);
  });
});
