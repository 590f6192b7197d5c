import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/recipe/index.ts';
import { useCpu } from '../helpers/tiny.ts';
import { inProcessRewards, post, serve, writeServeRecipe } from './fixture.ts';

// The serve fixture's recipe plus a per-token reward: the same probe with no aggregation.
let file: string;
let s: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  await useCpu();
  file = writeServeRecipe(() => '{ name: pii_tok, kind: probe, probe: p, aggregate: none, sign: -1, weight: 0.5 }');
  s = await serve(file);
});
afterAll(() => s.close());

const TEXTS = [
  { prompt: 'Q: sky?', completion: ' blue\n', answer: 'blue' },
  { prompt: 'Q: x?', completion: '', answer: 'y' },
  { prompt: '', completion: 'no prompt' },
];

describe('serve-reward with a per-token reward', () => {
  it('OpenRLHF clients still get one float per query: the total, the per-token reward counted with its sum', async () => {
    const want = await inProcessRewards(loadRecipe(file), TEXTS);
    const r = await post(`${s.srv.url}/get_reward`, { query: TEXTS.map((t) => t.prompt + t.completion), prompts: TEXTS.map((t) => t.prompt), labels: TEXTS.map((t) => t.answer ?? null) });
    expect(r.status).toBe(200);
    expect(r.json.rewards).toHaveLength(3);
    for (const v of r.json.rewards) expect(typeof v).toBe('number');
    expect(r.json.rewards).toEqual(want.total);
    expect(r.json.extra_logs.pii_tok).toEqual(want.byName.pii_tok); // one value per query
    expect(r.json.token_rewards).toBeUndefined();
  });

  it('POST /v1/rewards returns token_rewards: each per-token reward at every completion token', async () => {
    const r = await post(`${s.srv.url}/v1/rewards`, { completions: TEXTS.map((t) => t.completion), prompts: TEXTS.map((t) => t.prompt) });
    expect(r.status).toBe(200);
    const tr: Array<Record<string, number[]>> = r.json.token_rewards;
    expect(tr.map((x) => Object.keys(x))).toEqual([['pii_tok'], ['pii_tok'], ['pii_tok']]);
    expect(tr.map((x) => x.pii_tok!.length)).toEqual([6, 0, 9]);
    // sign −1 × the probe's score at each token, which the per-token probe scores also show.
    r.json.tokens[0].probes.pii_tok.forEach((p: number, k: number) => expect(tr[0]!.pii_tok![k]).toBeCloseTo(-p, 6));
    tr.forEach((x, i) => expect(x.pii_tok!.reduce((a, b) => a + b, 0)).toBeCloseTo(r.json.by_reward.pii_tok[i], 5));
    const all = tr.flatMap((x) => x.pii_tok!);
    expect(r.json.metrics['rewards/pii_tok/token_mean']).toBeCloseTo(all.reduce((a, b) => a + b, 0) / all.length, 5);
    expect(r.json.metrics['rewards/pii_tok/mean']).toBeCloseTo(r.json.by_reward.pii_tok.reduce((a: number, b: number) => a + b, 0) / 3, 5);
  });
});
