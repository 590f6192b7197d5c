import { describe, expect, it } from 'vitest';
import { parseJsonl } from '../../src/data/index.ts';
import { BonsaiError, BonsaiErrors } from '../../src/errors.ts';

/** The message parseJsonl throws for `content`. */
function errorOf(content: string): BonsaiError {
  try {
    parseJsonl(content, 'train.jsonl');
  } catch (e) {
    expect(e).toBeInstanceOf(BonsaiError);
    return e as BonsaiError;
  }
  throw new Error('expected an error');
}

describe('parseJsonl', () => {
  it('reads both shapes and skips blank lines, keeping line numbers', () => {
    const recs = parseJsonl('{"text": "a"}\n\n  \r\n{"prompt": "p", "completion": "c"}\r\n', 'f');
    expect(recs).toEqual([
      { kind: 'text', line: 1, text: 'a' },
      { kind: 'prompt', line: 4, prompt: 'p', completion: 'c' },
    ]);
  });

  it.each([
    ['{"text": "ok"}\n{"text": oops}', 'train.jsonl:2', /not valid JSON/],
    ['{"text": "ok"}\n\n[1, 2]', 'train.jsonl:3', /JSON array, not an object/],
    ['"just a string"', 'train.jsonl:1', /JSON string, not an object/],
    ['null', 'train.jsonl:1', /JSON null/],
    ['{"txt": "typo"}', 'train.jsonl:1', /expected .* got keys \["txt"\]/],
    ['{"text": 5}', 'train.jsonl:1', /"text" must be a string, got number/],
    ['{"text": ""}', 'train.jsonl:1', /"text" is empty/],
    ['{"prompt": "p"}', 'train.jsonl:1', /no "completion"/],
    ['{"prompt": "p", "completion": ["c"]}', 'train.jsonl:1', /"completion" must be a string, got array/],
    ['{"text": "t", "prompt": "p", "completion": "c"}', 'train.jsonl:1', /both/],
  ])('names file:line and the problem for %j', (content, where, what) => {
    const e = errorOf(content);
    expect(e.where).toBe(where);
    expect(e.message).toMatch(what);
    expect(e.message.startsWith(`${where}: `)).toBe(true);
  });

  it('reports every bad line at once', () => {
    const e = errorOf('{"text": "a"}\nnope\n{"text": 1}\n');
    expect(e).toBeInstanceOf(BonsaiErrors);
    expect((e as BonsaiErrors).errors.map((x) => x.where)).toEqual(['train.jsonl:2', 'train.jsonl:3']);
    expect(e.message).toContain('train.jsonl:2: not valid JSON');
  });

  it('an empty file is an error', () => {
    expect(errorOf('\n\n').message).toMatch(/empty/);
  });
});
