import { describe, expect, it } from 'vitest';
import { lrAt } from '../../src/trainer/index.ts';

describe('lrAt', () => {
  const s = { kind: 'cosine' as const, warmupSteps: 10, minLrRatio: 0.1 };
  it('warms up linearly to the peak', () => {
    expect(lrAt(1, 110, 1, s)).toBeCloseTo(0.1);
    expect(lrAt(10, 110, 1, s)).toBeCloseTo(1);
  });
  it('decays by cosine to min_lr_ratio · peak at the last step', () => {
    expect(lrAt(60, 110, 1, s)).toBeCloseTo(0.55);
    expect(lrAt(110, 110, 1, s)).toBeCloseTo(0.1);
  });
  it('linear and constant', () => {
    expect(lrAt(60, 110, 2, { ...s, kind: 'linear' })).toBeCloseTo(1.1);
    expect(lrAt(60, 110, 2, { ...s, kind: 'constant' })).toBe(2);
  });
});
