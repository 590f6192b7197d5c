import { describe, expect, it } from 'vitest';
import { downsampleIndices, thinColumns } from '../../src/ui/downsample.ts';

describe('downsampling a history for drawing', () => {
  it('keeps a short history whole', () => {
    expect(downsampleIndices([3, 1, 2], 10)).toEqual([0, 1, 2]);
  });

  it('keeps at most ~max points, the ends, every bucket extreme, and a NaN as a gap', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 50));
    values[4321] = 99; // a spike
    values[7000] = -99;
    values[8000] = NaN;
    const idx = downsampleIndices(values, 500);
    expect(idx.length).toBeLessThanOrEqual(500 + 250);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(9_999);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(new Set(idx).size).toBe(idx.length);
    for (const i of [4321, 7000, 8000]) expect(idx).toContain(i);
  });

  it('thins columns together and reports the whole history size and finite extremes', () => {
    const n = 5000;
    const c = { step: Array.from({ length: n }, (_, i) => i), time: Array.from({ length: n }, (_, i) => 1000 + i), value: Array.from({ length: n }, (_, i) => (i === 10 ? Infinity : i)) };
    const t = thinColumns(c, 100);
    expect(t.n).toBe(n);
    expect([t.min, t.max]).toEqual([0, n - 1]);
    expect(t.step.length).toBeLessThanOrEqual(150);
    t.step.forEach((s, i) => expect([t.time[i], t.value[i]]).toEqual([1000 + s, s === 10 ? Infinity : s]));
  });
});
