import { describe, expect, it } from 'vitest';
import { splitTrainEval } from '../../src/data/index.ts';
import { BonsaiError } from '../../src/errors.ts';

const items = Array.from({ length: 100 }, (_, i) => i);

describe('splitTrainEval', () => {
  it('is deterministic by seed and differs across seeds', () => {
    const a = splitTrainEval(items, 0.1, 42);
    expect(splitTrainEval(items, 0.1, 42)).toEqual(a);
    expect(splitTrainEval(items, 0.1, 43).eval).not.toEqual(a.eval);
  });

  it('partitions the examples, keeping their order', () => {
    const { train, eval: ev } = splitTrainEval(items, 0.25, 1);
    expect(ev).toHaveLength(25);
    expect([...train, ...ev].sort((x, y) => x - y)).toEqual(items);
    expect(train).toEqual([...train].sort((x, y) => x - y));
  });

  it('holds out at least one and keeps at least one', () => {
    expect(splitTrainEval([1, 2], 0.01, 0).eval).toHaveLength(1);
    expect(splitTrainEval([1, 2], 0.9, 0).train).toHaveLength(1);
    expect(splitTrainEval([1], 0.5, 0)).toEqual({ train: [1], eval: [] });
    expect(splitTrainEval(items, 0, 0).eval).toEqual([]);
  });

  it('rejects a fraction outside [0, 1)', () => {
    expect(() => splitTrainEval(items, 1, 0)).toThrow(BonsaiError);
    expect(() => splitTrainEval(items, -0.1, 0)).toThrow(BonsaiError);
  });
});
