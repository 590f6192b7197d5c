import { describe, expect, it } from 'vitest';
import { forgettingRecords } from '../../../src/data/tasks/forgetting.ts';

describe('forgetting task records', () => {
  it('A asks with "=" for the middle letter, B with "+" for the last, over the same letters', () => {
    const a = forgettingRecords(1, 200, 'A');
    const b = forgettingRecords(2, 200, 'B');
    for (const r of a) {
      expect(r.prompt).toMatch(/^p[a-f]{3}=$/);
      expect(r.completion).toBe(r.prompt[2]);
    }
    for (const r of b) {
      expect(r.prompt).toMatch(/^q[a-f]{3}\+$/);
      expect(r.completion).toBe(r.prompt[3]);
    }
    // B's query token never occurs in A, so A's attribution gives its embedding no score.
    expect(a.some((r) => (r.prompt + r.completion).includes('+'))).toBe(false);
    expect(new Set(b.map((r) => r.completion))).toEqual(new Set(a.map((r) => r.completion)));
  });

  it('is fixed by its seed', () => {
    expect(forgettingRecords(7, 20, 'B')).toEqual(forgettingRecords(7, 20, 'B'));
    expect(forgettingRecords(7, 20, 'B')).not.toEqual(forgettingRecords(8, 20, 'B'));
  });
});
