/** examples/reward-client.ts against a live server: its rewards equal bonsai's in-process rewards for the same texts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BonsaiRewardClient, BonsaiRewardError } from '../../examples/reward-client.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { useCpu } from '../helpers/tiny.ts';
import { inProcessRewards, serve, writeServeRecipe } from '../server/fixture.ts';

const TEXTS = [
  { prompt: 'Q: sky?', completion: ' blue\n', answer: 'blue' },
  { prompt: 'Q: grass?', completion: ' green', answer: 'green' },
  { prompt: 'Q: 1+1?', completion: ' two\nmore' },
  { prompt: '', completion: ' ünïcödé ✓' },
];

let file: string;
let s: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  await useCpu();
  file = writeServeRecipe();
  s = await serve(file, { token: 'sekret' });
});
afterAll(() => s.close());

describe('examples/reward-client.ts', () => {
  it('gets exactly the in-process rewards, through both endpoints and across chunks', async () => {
    const client = new BonsaiRewardClient(`${s.srv.url}/`, { token: 'sekret', chunkSize: 3 });
    const answers = TEXTS.map((t) => t.answer ?? '');
    const want = await inProcessRewards(loadRecipe(file), TEXTS.map((t, i) => ({ ...t, answer: answers[i] })));
    expect((await client.health()).status).toBe('ok');
    expect((await client.info()).rewards.map((r) => r.name)).toEqual(['probe', 'correct', 'format', 'len']);
    const got = await client.rewards(TEXTS.map((t) => t.completion), { prompts: TEXTS.map((t) => t.prompt), answers });
    expect(got.rewards).toEqual(want.total);
    expect(got.by_reward).toEqual(want.byName);
    expect(want.byName.correct).toEqual([1, 1, 0, 0]); // the answers reached exact_match
    const open = await client.getReward(TEXTS.map((t) => t.prompt + t.completion), { prompts: TEXTS.map((t) => t.prompt), labels: answers });
    expect(open.rewards).toEqual(want.total);
  }, 60_000);

  it("reports the server's refusals with its message, and a wrong token as 403", async () => {
    const client = new BonsaiRewardClient(s.srv.url, { token: 'sekret' });
    await expect(client.rewards([])).rejects.toThrow(/400: "completions" is empty/);
    const wrong = new BonsaiRewardClient(s.srv.url, { token: 'nope' });
    const err = await wrong.rewards(['x']).catch((e) => e);
    expect(err).toBeInstanceOf(BonsaiRewardError);
    expect(err.status).toBe(403);
  });
});
