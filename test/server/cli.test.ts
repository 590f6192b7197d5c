/** `bonsai serve-reward` as a user runs it: a subprocess that prints its URL, serves, and drains on SIGTERM. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir, writeTinyRecipe } from '../helpers/recipes.ts';
import { getJson, post, writeServeRecipe } from './fixture.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bonsai.js');

/** Starts the server; resolves with the URL it prints, the child, and its exit (code, stderr). */
function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, 'serve-reward', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; stderr: string }>((r) => child.on('exit', (code) => r({ code, stderr })));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`exited ${code} before listening:\n${stderr}`)));
  });
  return { child, url, exited };
}

describe('bonsai serve-reward (subprocess)', () => {
  it('SIGTERM lets the request in flight finish, refuses new connections, then exits 0', async () => {
    // A long max wait holds the request in the batcher while the signal arrives.
    const s = start([writeServeRecipe(), '--port', '0', '--max-wait-ms', '2000'], { BONSAI_REWARD_TOKEN: 'tok' });
    const url = await s.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const inFlight = post(`${url}/get_reward`, { query: ['Q: a? b'], prompts: ['Q: a?'] }, { authorization: 'Bearer tok' });
    // Signal only once the request is queued (on a loaded machine it may take a while to be read).
    for (let i = 0; i < 100 && (await getJson(`${url}/health`)).queued < 1; i++) await new Promise((r) => setTimeout(r, 20));
    s.child.kill('SIGTERM');
    // No longer listening once the signal is handled (well before the held request's pass runs).
    let refused = false;
    for (let i = 0; i < 60 && !refused; i++) {
      refused = await fetch(`${url}/health`, { headers: { connection: 'close' } }).then((r) => (void r.body?.cancel(), false), () => true);
      if (!refused) await new Promise((r) => setTimeout(r, 20));
    }
    expect(refused).toBe(true);
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.json.rewards).toHaveLength(1);
    const { code, stderr } = await s.exited;
    expect(code).toBe(0);
    expect(stderr).toMatch(/SIGTERM: finishing requests in flight/);
    expect(stderr).toMatch(/stopped after 1 frozen passes, 1 sequences/);
    expect(stderr).toMatch(/bearer token required/);
  }, 60_000);

  it('a recipe without rewards, or a bad flag, is a user error, not a stack trace', () => {
    const dir = tempDir();
    const r = bonsai(['serve-reward', writeTinyRecipe(dir), '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the recipe has no rewards to serve/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const flags = bonsai(['serve-reward', 'x.yaml', '--batch-size', '0']);
    expect(flags.code).toBe(1);
    expect(flags.stderr).toMatch(/--batch-size must be at least 1/);
  }, 60_000);

  it('warns when listening beyond loopback without a token', async () => {
    const s = start([writeServeRecipe(), '--port', '0', '--host', '0.0.0.0']);
    const url = await s.url;
    expect((await fetch(`${url.replace('0.0.0.0', '127.0.0.1')}/health`)).status).toBe(200);
    s.child.kill('SIGTERM');
    const { code, stderr } = await s.exited;
    expect(code).toBe(0);
    expect(stderr).toMatch(/warning: serving on 0\.0\.0\.0, reachable from other machines by anyone, with no token/);
  }, 60_000);
});
