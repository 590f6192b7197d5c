import { beforeAll, describe, expect, it } from 'vitest';
import { generate, sampleToken } from '../../src/models/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('generate', () => {
  it('greedy is deterministic and batched equals one at a time', () => {
    const m = tinyModel(5);
    const prompts = [[1, 2, 3], [7], [4, 4, 4, 4, 4]];
    const batched = generate(m, prompts, { maxNewTokens: 6, temperature: 0 });
    const single = prompts.map((p) => generate(m, [p], { maxNewTokens: 6, temperature: 0 }).tokens[0]);
    expect(batched.tokens).toEqual(single);
    expect(batched.tokens.every((t) => t.length === 6)).toBe(true);
    m.dispose();
  });

  it('slides the window past the context length', () => {
    const m = tinyModel(5);
    const out = generate(m, [[1, 2, 3, 4, 5, 6, 7]], { maxNewTokens: 12, temperature: 0 });
    expect(out.tokens[0]).toHaveLength(12);
    m.dispose();
  });

  it('stops a sequence at a stop token and keeps it', () => {
    const m = tinyModel(5);
    const greedy = generate(m, [[1, 2]], { maxNewTokens: 5, temperature: 0 }).tokens[0]!;
    const stopAt = greedy[2]!;
    const out = generate(m, [[1, 2]], { maxNewTokens: 5, temperature: 0, stopTokens: [stopAt] });
    expect(out.tokens[0]).toEqual(greedy.slice(0, greedy.indexOf(stopAt) + 1));
    expect(out.finish[0]).toBe('stop');
    m.dispose();
  });

  it('samples reproducibly by seed', () => {
    const m = tinyModel(5);
    const a = generate(m, [[1]], { maxNewTokens: 8, temperature: 1, rng: 11 });
    const b = generate(m, [[1]], { maxNewTokens: 8, temperature: 1, rng: 11 });
    expect(a.tokens).toEqual(b.tokens);
    m.dispose();
  });
});

describe('sampleToken', () => {
  const logits = Float32Array.from([0, 5, 4.9, -2]);
  it('top-k 1 is greedy, temperature 0 is greedy', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 20; i++) expect(sampleToken(logits, { temperature: 1, topK: 1 }, rng)).toBe(1);
    expect(sampleToken(logits, { temperature: 0 }, rng)).toBe(1);
  });
  it('top-k 2 and top-p only ever pick from the kept set', () => {
    const rng = new Rng(2);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, { temperature: 1, topK: 2 }, rng));
    expect([...seen].sort()).toEqual([1, 2]);
    const nucleus = new Set<number>();
    for (let i = 0; i < 200; i++) nucleus.add(sampleToken(logits, { temperature: 1, topP: 0.3 }, rng));
    expect([...nucleus]).toEqual([1]);
  });
  it('matches the softmax distribution', () => {
    const rng = new Rng(3);
    const l = Float32Array.from([Math.log(1), Math.log(3)]);
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += sampleToken(l, { temperature: 1 }, rng);
    expect(ones / 4000).toBeGreaterThan(0.72);
    expect(ones / 4000).toBeLessThan(0.78);
  });
  it('walks the tokens in a stable descending order: the same draws as a comparison sort, ties, ±0 and negatives included', () => {
    // The walk a stable comparator sort gives (the ranking sampleToken promises), written out directly.
    const reference = (l: Float32Array, t: number, u: number) => {
      const order = Array.from(l, (_, i) => i).sort((a, b) => l[b]! / t - l[a]! / t);
      const max = l[order[0]!]! / t;
      const probs = order.map((i) => Math.exp(l[i]! / t - max));
      let left = u * probs.reduce((a, b) => a + b, 0);
      for (let j = 0; j < probs.length; j++) if ((left -= probs[j]!) <= 0) return order[j]!;
      return order[order.length - 1]!;
    };
    const g = new Rng(11);
    for (const V of [3, 257, 5000]) {
      for (let k = 0; k < 20; k++) {
        // Coarse values (many ties), some exact zeros of both signs.
        const l = Float32Array.from({ length: V }, () => (g.next() < 0.1 ? (g.next() < 0.5 ? 0 : -0) : Math.round((g.next() * 8 - 4) * 16) / 16));
        const t = 0.5 + g.next();
        const u = new Rng(100 + k).next();
        expect(sampleToken(l, { temperature: t }, new Rng(100 + k)), `V ${V}, row ${k}`).toBe(reference(l, t, u));
      }
    }
  });
});
