import { describe, expect, it } from 'vitest';
import { unigramEntropyBits, type Example } from '../../src/data/index.ts';
import { BonsaiError } from '../../src/errors.ts';

describe('unigramEntropyBits', () => {
  it('is log2(k) bits for a uniform distribution over k tokens', () => {
    const e = unigramEntropyBits([5, 5, 5, 5]);
    expect(e.bits).toBeCloseTo(2, 12);
    expect(e.nats).toBeCloseTo(Math.log(4), 12);
    expect(e.tokens).toBe(20);
  });

  it('matches a hand-computed skewed distribution (1/2, 1/4, 1/4 → 1.5 bits)', () => {
    expect(unigramEntropyBits(new Map([[7, 2], [8, 1], [9, 1]])).bits).toBeCloseTo(1.5, 12);
    expect(unigramEntropyBits([0, 0, 10]).bits).toBe(0); // zero counts are ignored
  });

  it('counts only masked targets of examples', () => {
    // Targets: 1, 2, 2, 1 (position 0 and masked-out positions are ignored) → 1 bit.
    const ex: Example[] = [
      { ids: Int32Array.from([9, 1, 2, 9]), lossMask: Uint8Array.from([0, 1, 1, 0]) },
      { ids: Int32Array.from([9, 2, 1, 9]), lossMask: Uint8Array.from([0, 1, 1, 0]) },
    ];
    const e = unigramEntropyBits(ex);
    expect(e.bits).toBeCloseTo(1, 12);
    expect(e.tokens).toBe(4);
  });

  it('is an error with nothing to count', () => {
    expect(() => unigramEntropyBits([])).toThrow(BonsaiError);
    expect(() => unigramEntropyBits([1, -1])).toThrow(BonsaiError);
  });
});
