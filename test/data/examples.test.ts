import { describe, expect, it } from 'vitest';
import { countTargets, sequenceExample, windowExamples } from '../../src/data/index.ts';
import { BonsaiError } from '../../src/errors.ts';

describe('windowExamples', () => {
  it('cuts windows of L+1 with stride L so every token but the first is a target once', () => {
    const tokens = Array.from({ length: 10 }, (_, i) => i + 1); // 1..10
    const ex = windowExamples(tokens, 4);
    expect(ex.map((e) => Array.from(e.ids))).toEqual([
      [1, 2, 3, 4, 5],
      [5, 6, 7, 8, 9],
      [9, 10, 0, 0, 0], // short tail padded
    ]);
    expect(ex.map((e) => Array.from(e.lossMask))).toEqual([
      [0, 1, 1, 1, 1],
      [0, 1, 1, 1, 1],
      [0, 1, 0, 0, 0],
    ]);
    const targets = ex.flatMap((e) => Array.from(e.ids).filter((_, t) => e.lossMask[t]));
    expect(targets).toEqual(tokens.slice(1));
  });

  it('drops a final window of a single token (it has no target)', () => {
    const ex = windowExamples([1, 2, 3, 4, 5, 6, 7, 8, 9], 4); // last window would be [9]
    expect(ex).toHaveLength(2);
    expect(countTargets(ex)).toBe(8);
  });

  it('rejects a bad seqLen', () => {
    expect(() => windowExamples([1, 2, 3], 0)).toThrow(BonsaiError);
    expect(() => windowExamples([1, 2, 3], 1.5)).toThrow(BonsaiError);
  });
});

describe('sequenceExample', () => {
  it('puts the loss on completion tokens only, exactly', () => {
    const { example, truncated } = sequenceExample({ prompt: [10, 11, 12], completion: [20, 21, 99] }, 7);
    expect(truncated).toBe(false);
    expect(Array.from(example.ids)).toEqual([10, 11, 12, 20, 21, 99, 0, 0]);
    expect(Array.from(example.lossMask)).toEqual([0, 0, 0, 1, 1, 1, 0, 0]);
  });

  it('truncates long examples keeping the start', () => {
    const { example, truncated } = sequenceExample({ prompt: [1, 2], completion: [3, 4, 5, 6] }, 3);
    expect(truncated).toBe(true);
    expect(Array.from(example.ids)).toEqual([1, 2, 3, 4]);
    expect(Array.from(example.lossMask)).toEqual([0, 0, 1, 1]);
  });

  it('never marks position 0 as a target (empty prompt)', () => {
    const { example } = sequenceExample({ prompt: [], completion: [5, 6, 7] }, 3);
    expect(Array.from(example.lossMask)).toEqual([0, 1, 1, 0]);
  });
});
