import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords } from '../../src/data/records.ts';
import { tempDir } from '../helpers/recipes.ts';

describe('readRecords (probe data, RL prompts)', () => {
  const write = (text: string) => {
    const path = join(tempDir(), 'p.jsonl');
    writeFileSync(path, text);
    return path;
  };

  it('reads typed records, tolerating blank lines and CRLF', () => {
    const path = write('{"prompt": "a", "label": 1}\r\n\n{"prompt": "b", "label": 0, "completion": "c"}\n');
    expect(readRecords(path, { prompt: 'string', label: 'number' }, { completion: 'string' })).toEqual([
      { prompt: 'a', label: 1 },
      { prompt: 'b', label: 0, completion: 'c' },
    ]);
  });

  it('reports every bad line at once, each by file:line', () => {
    const path = write('{"prompt": "a"}\n[1]\n{"prompt": 3}\n{"prompt": "ok", "completion": 5}\nnot json\n');
    let message = '';
    try {
      readRecords(path, { prompt: 'string' }, { completion: 'string' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/4 bad JSONL lines/);
    expect(message).toMatch(/p\.jsonl:2: expected a JSON object per line/);
    expect(message).toMatch(/p\.jsonl:3: field "prompt" must be a string, got 3/);
    expect(message).toMatch(/p\.jsonl:4: field "completion" must be a string, got 5/);
    expect(message).toMatch(/p\.jsonl:5: not valid JSON/);
  });

  it('names a missing file and an empty one', () => {
    expect(() => readRecords('/nonexistent/p.jsonl', { prompt: 'string' })).toThrow(/data file not found: \/nonexistent\/p\.jsonl/);
    expect(() => readRecords(write('\n\n'), { prompt: 'string' })).toThrow(/p\.jsonl: no records/);
  });
});
