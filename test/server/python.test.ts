/** The Python examples (standard library only) against a live server: their rewards equal bonsai's in-process rewards. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/recipe/index.ts';
import { useCpu } from '../helpers/tiny.ts';
import { inProcessRewards, serve, writeServeRecipe } from './fixture.ts';

const TEXTS = [
  { prompt: 'Q: sky?', completion: ' blue\n', answer: 'blue' },
  { prompt: 'Q: grass?', completion: ' green', answer: 'green' },
  { prompt: 'Q: 1+1?', completion: ' two\nmore' },
  { prompt: 'Q: é?', completion: ' ünïcödé ✓' },
];

let file: string;
let s: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  await useCpu();
  file = writeServeRecipe();
  s = await serve(file);
});
afterAll(() => s.close());

describe('Python clients (examples/python)', () => {
  it('bonsai_client.py and trl_reward.py get exactly the in-process rewards', async () => {
    // Async exec: the server lives in this process and must keep answering while python runs.
    const { stdout } = await promisify(execFile)('python3', [join(import.meta.dirname, 'python_client.py'), s.srv.url, JSON.stringify(TEXTS)], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout);
    const want = await inProcessRewards(loadRecipe(file), TEXTS);
    expect(out.health).toBe('ok');
    expect(out.info_rewards).toEqual(['probe', 'correct', 'format', 'len']);
    expect(out.openrlhf).toEqual(want.total);
    expect(out.rewards.rewards).toEqual(want.total); // split into chunks of 3 and joined back
    expect(out.rewards.by_reward).toEqual(want.byName);
    expect(out.trl_total).toEqual(want.total);
    expect(out.trl_probe).toEqual(want.byName.probe);
    expect(out.trl_name).toBe('bonsai_probe');
    expect(out.error).toEqual([400, '"completions" is empty: send at least one string']);
  }, 60_000);
});
