import { describe, expect, it } from 'vitest';
import { memorisationWorld, ruleSource, shiftByOne } from '../../../src/data/tasks/memorisation.ts';

describe('memorisation world', () => {
  const sizes = { ruleTrain: 500, ruleEval: 50, memorised: 10, repeats: 5 };
  const w = memorisationWorld(3, sizes);

  it('the rule shifts every letter by one, z wrapping to a', () => {
    expect(shiftByOne('abxyz')).toBe('bcyza');
    for (const r of w.ruleEval) expect(r.completion).toBe(shiftByOne(ruleSource(r)));
  });

  it('held-out rule instances never appear in training', () => {
    const trained = new Set(w.train.filter((r) => r.prompt.startsWith('r:')).map(ruleSource));
    expect(w.ruleEval.filter((r) => trained.has(ruleSource(r)))).toEqual([]);
  });

  it('each memorised pair appears exactly `repeats` times, keys distinct, 8-letter suffixes', () => {
    expect(new Set(w.memorised.map((m) => m.prompt)).size).toBe(10);
    for (const m of w.memorised) {
      expect(m.completion).toMatch(/^[a-z]{8}$/);
      expect(w.train.filter((r) => r.prompt === m.prompt && r.completion === m.completion)).toHaveLength(5);
    }
    expect(w.train).toHaveLength(500 + 10 * 5);
  });

  it('is the same for the same seed and different for another', () => {
    expect(memorisationWorld(3, sizes)).toEqual(w);
    expect(memorisationWorld(4, sizes).memorised).not.toEqual(w.memorised);
  });
});
