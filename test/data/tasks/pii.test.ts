import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillTemplate, piiJsonl, piiRecords, probeLines, readPiiRecords, tokenLabels } from '../../../src/data/tasks/pii.ts';
import { addCounts, f1Of, runs } from '../../../src/data/tasks/pii-score.ts';
import { createTokenizer } from '../../../src/models/tokenizer.ts';
import { tempDir } from '../../helpers/recipes.ts';

const tok = createTokenizer('byte');

describe('PII world', () => {
  it('is deterministic by seed, and every span holds a value of its kind', () => {
    expect(piiRecords('train', 50, 3)).toEqual(piiRecords('train', 50, 3));
    expect(piiRecords('train', 50, 3)).not.toEqual(piiRecords('train', 50, 4));
    for (const fam of ['train', 'eval'] as const) {
      for (const r of piiRecords(fam, 200, 1)) {
        for (const s of r.spans) {
          const v = r.text.slice(s.start, s.end);
          if (s.kind === 'email') expect(v).toMatch(/^[a-z._0-9]+@[a-z.]+$/);
          if (s.kind === 'phone') expect(v).toMatch(/^[+(]?[0-9][0-9 ().+-]+[0-9]$/);
          if (s.kind === 'name') expect(v).toMatch(/^[A-Z]/);
        }
      }
    }
  });

  it('the eval family shares no template frame and no phone or account format with the train family', () => {
    const frame = (r: { text: string; spans: Array<{ start: number; end: number }> }) => r.spans.reduceRight((t, s) => t.slice(0, s.start) + '{}' + t.slice(s.end), r.text);
    const train = new Set(piiRecords('train', 300, 0).map(frame));
    const shifted = piiRecords('eval', 300, 0);
    expect(shifted.filter((r) => train.has(frame(r)))).toEqual([]);
    const values = (fam: 'train' | 'eval', kind: string) => piiRecords(fam, 300, 0).flatMap((r) => r.spans.filter((s) => s.kind === kind).map((s) => r.text.slice(s.start, s.end)));
    expect(values('eval', 'phone').some((v) => /^\d{3}-\d{3}-\d{4}$/.test(v))).toBe(false);
    expect(values('eval', 'account').some((v) => v.startsWith('ACC-'))).toBe(false);
  });

  it('fills templates with exact offsets and labels exactly the tokens inside spans', () => {
    const r = fillTemplate('Call {name} on {phone}.', (k) => (k === 'name' ? 'Ann Lee' : '555-000-1234'));
    expect(r).toEqual({ text: 'Call Ann Lee on 555-000-1234.', spans: [{ start: 5, end: 12, kind: 'name' }, { start: 16, end: 28, kind: 'phone' }] });
    const { labels } = tokenLabels(tok, r);
    expect(labels.join('')).toBe('00000' + '1'.repeat(7) + '0000' + '1'.repeat(12) + '0');
  });

  it('probe lines are the text cut at span edges: prompts are prefixes, labels alternate with spans', () => {
    const r = piiRecords('train', 40, 2).find((x) => x.spans.length >= 2)!;
    const lines = probeLines(r);
    expect(lines.map((l) => l.completion).join('')).toBe(r.text);
    lines.forEach((l) => expect(r.text.startsWith(l.prompt + l.completion)).toBe(true));
    expect(lines.filter((l) => l.label === 1).map((l) => l.completion)).toEqual(r.spans.map((s) => r.text.slice(s.start, s.end)));
  });

  it('reads its own JSONL back; a span outside its text is an error naming file:line', () => {
    const dir = tempDir();
    const ok = join(dir, 'ok.jsonl');
    const rows = piiRecords('eval', 20, 5);
    writeFileSync(ok, piiJsonl(rows));
    expect(readPiiRecords(ok)).toEqual(rows);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify({ text: 'hi Ann', spans: [] })}\n${JSON.stringify({ text: 'hi Ann', spans: [{ start: 3, end: 9, kind: 'name' }] })}\n`);
    expect(() => readPiiRecords(bad)).toThrow(/bad\.jsonl:2.*spans\[0\]: \[3, 9\) is outside the text \(6 characters\)/s);
    writeFileSync(bad, `${JSON.stringify({ text: 'hi Ann', spans: [{ start: 0, end: 2, kind: 'ssn' }] })}\n`);
    expect(() => readPiiRecords(bad)).toThrow(/bad\.jsonl:1.*kind must be one of name, email, phone, address, account/s);
  });
});

describe('token and span F1', () => {
  it('a span counts only when all its tokens are flagged and nothing next to it bleeds in', () => {
    expect(runs([0, 1, 1, 0, 1])).toEqual([[1, 3], [4, 5]]);
    const gold = [0, 1, 1, 0, 0, 1, 1, 0];
    const count = (pred: number[]) => {
      const t = { tp: 0, fp: 0, fn: 0 }, s = { tp: 0, fp: 0, fn: 0 };
      addCounts(t, s, gold, pred);
      return { t, s };
    };
    expect(count(gold).s).toEqual({ tp: 2, fp: 0, fn: 0 });
    // Second span bleeds one token to the right: token F1 barely moves, the span is lost.
    const bleed = count([0, 1, 1, 0, 0, 1, 1, 1]);
    expect(bleed.t).toEqual({ tp: 4, fp: 1, fn: 0 });
    expect(bleed.s).toEqual({ tp: 1, fp: 1, fn: 1 });
    // Half a span flagged: neither found nor right.
    expect(count([0, 1, 0, 0, 0, 1, 1, 0]).s).toEqual({ tp: 1, fp: 1, fn: 1 });
    expect(f1Of({ tp: 1, fp: 1, fn: 1 }).f1).toBeCloseTo(0.5);
    expect(f1Of({ tp: 0, fp: 0, fn: 0 })).toEqual({ precision: 0, recall: 0, f1: 0 });
  });
});
