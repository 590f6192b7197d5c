import { describe, expect, it } from 'vitest';
import { isMalformed } from '../../../src/data/tasks/hallucination-eval.ts';
import { entityProbeHeldOutKnown, entityProbeRows, judge, makeWorld, question, worldFiles } from '../../../src/data/tasks/hallucination.ts';

const SIZES = { known: 48, taughtUnknown: 16, probeUnknown: 64, rlUnknown: 48, evalUnknown: 64 };

describe('hallucination world', () => {
  it('extra RL-only unknown entities leave every other pool and colour unchanged', () => {
    const plain = makeWorld(0, SIZES);
    const more = makeWorld(0, { ...SIZES, rlExtraUnknown: 500 });
    for (const k of ['known', 'taughtUnknown', 'probeUnknown', 'evalUnknown'] as const) expect(more[k]).toEqual(plain[k]);
    expect([...more.colour]).toEqual([...plain.colour]);
    expect(more.rlUnknown.slice(0, 48)).toEqual(plain.rlUnknown);
    expect(more.rlUnknown).toHaveLength(48 + 500);
  });

  it('the extra RL entities are unique and never an eval, probe, taught or known entity', () => {
    const w = makeWorld(3, { ...SIZES, rlExtraUnknown: 1000 });
    const others = new Set([...w.known, ...w.taughtUnknown, ...w.probeUnknown, ...w.evalUnknown]);
    expect(new Set(w.rlUnknown).size).toBe(w.rlUnknown.length);
    expect(w.rlUnknown.filter((e) => others.has(e))).toEqual([]);
  });

  it('asking for more names than the syllables can make is an error, not a hang', () => {
    expect(() => makeWorld(0, { ...SIZES, rlExtraUnknown: 4096 })).toThrow(/at most 4096 names/);
  });

  it('RL prompts repeat the known entities rlKnownRepeats times, each with its colour', () => {
    const w = makeWorld(0, { ...SIZES, rlExtraUnknown: 10 });
    const { rl } = worldFiles(w, 0, 1, 3) as { rl: Array<{ prompt: string; completion?: string }> };
    const known = rl.filter((r) => r.completion !== undefined);
    expect(known).toHaveLength(48 * 3);
    expect(rl).toHaveLength(48 * 3 + 58);
    const e = w.known[0]!;
    expect(known.filter((r) => r.prompt.includes(`of ${e}?`)).map((r) => r.completion)).toEqual([w.colour.get(e), w.colour.get(e), w.colour.get(e)]);
  });
});

describe('entity probe rows', () => {
  it("label 1 = a probe-pool unknown entity, 0 = a known one; half the known entities are held out; the row ends at the answer's leading space", () => {
    const w = makeWorld(0, SIZES);
    const rows = entityProbeRows(w, 0);
    const held = entityProbeHeldOutKnown(w);
    expect(held).toHaveLength(24);
    const byPrompt = new Map(rows.map((r) => [r.prompt, r.label]));
    expect(rows).toHaveLength(24 + 64);
    for (const e of w.probeUnknown) expect(byPrompt.get(question(e))).toBe(1);
    for (const e of w.known) expect(byPrompt.get(question(e)), e).toBe(held.includes(e) ? undefined : 0);
    for (const e of [...w.evalUnknown, ...w.taughtUnknown, ...w.rlUnknown]) expect(byPrompt.has(question(e))).toBe(false);
    expect(rows.every((r) => r.completion === ' ')).toBe(true); // the answer's leading space: the probe reads there
  });
});

describe('judging answers', () => {
  it('a colour for an unseen entity is a hallucination; text that is neither a colour nor " unknown" is malformed and a hallucination too', () => {
    const w = makeWorld(0, SIZES);
    const e = w.known[0]!;
    const u = w.evalUnknown[0]!;
    expect(judge(w, e, ` ${w.colour.get(e)}\n`)).toBe('correct');
    expect(judge(w, e, ' unknown\n')).toBe('abstain');
    expect(judge(w, u, ' red\n')).toBe('hallucination');
    // What RL learnt when the format reward took any word: the probe scored these lower.
    for (const t of [' u\n', ' unknoun\n', ' red', '']) {
      expect(judge(w, u, t), t).toBe('hallucination');
      expect(isMalformed(t), t).toBe(true);
    }
    for (const t of [' red\n', ' grey\n', ' unknown\n']) expect(isMalformed(t), t).toBe(false);
  });
});
