import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRecipe } from '../../src/recipe/index.ts';
import { useCpu } from '../helpers/tiny.ts';
import { getJson, inProcessRewards, N_CTX, post, serve, TEST_LIMITS, writeServeRecipe } from './fixture.ts';

let file: string;
let s: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  await useCpu();
  file = writeServeRecipe();
  s = await serve(file, { maxWaitMs: 30 });
});
afterAll(() => s.close());

const TEXTS = [
  { prompt: 'Q: sky?', completion: ' blue\n', answer: 'blue' },
  { prompt: 'Q: grass?', completion: ' Red!', answer: 'green' },
  { prompt: '', completion: 'no prompt at all' },
  { prompt: 'Q: x?', completion: '', answer: 'y' },
];

describe('serve-reward endpoints', () => {
  it('POST /get_reward (OpenRLHF shape) equals the in-process rewards of the same texts, bit for bit', async () => {
    const want = await inProcessRewards(loadRecipe(file), TEXTS);
    // Older OpenRLHF sends only query; newer adds prompts and labels. Left padding before the prompt is dropped.
    const r = await post(`${s.srv.url}/get_reward`, {
      query: TEXTS.map((t, i) => (i === 1 ? '<pad><pad>' : '') + t.prompt + t.completion),
      prompts: TEXTS.map((t) => t.prompt),
      labels: TEXTS.map((t) => t.answer ?? null),
    });
    expect(r.status).toBe(200);
    expect(r.json.rewards).toEqual(want.total);
    expect(r.json.scores).toEqual(want.total);
    expect(r.json.extra_logs).toEqual(want.byName);
    expect(want.byName.correct).toEqual([1, 0, 0, 0]); // the labels reached exact_match
    expect(new Set(want.byName.probe).size).toBe(4); // the probe really reads each sequence
  });

  it('query alone: the whole query is the completion (an empty prompt), as documented', async () => {
    const want = await inProcessRewards(loadRecipe(file), [{ prompt: '', completion: 'Q: sky? blue' }]);
    const r = await post(`${s.srv.url}/get_reward`, { query: ['Q: sky? blue'] });
    expect(r.json.rewards).toEqual(want.total);
    const bad = await post(`${s.srv.url}/get_reward`, { query: ['abc'], prompts: ['zzz'] });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toMatch(/prompts\[0\] does not occur in query\[0\]/);
  });

  it('POST /v1/rewards: totals, each reward, weights, metrics and per-token probe scores', async () => {
    const want = await inProcessRewards(loadRecipe(file), TEXTS);
    const r = await post(`${s.srv.url}/v1/rewards`, { completions: TEXTS.map((t) => t.completion), prompts: TEXTS.map((t) => t.prompt), answers: TEXTS.map((t) => t.answer ?? null) });
    expect(r.status).toBe(200);
    expect(r.json.rewards).toEqual(want.total);
    expect(r.json.by_reward).toEqual(want.byName);
    expect(r.json.weights).toEqual({ probe: 1, correct: 0.5, format: 1, len: 0.25 });
    expect(r.json.metrics['rewards/correct/mean']).toBe(0.25);
    const t0 = r.json.tokens[0];
    expect(t0.ids).toEqual([...Buffer.from(' blue\n')]);
    expect(t0.text.join('')).toBe(' blue\n');
    // aggregate: mean, sign: -1 → the reward is minus the mean of the per-token scores.
    const ps: number[] = t0.probes.probe;
    expect(ps).toHaveLength(6);
    expect(-ps.reduce((a, b) => a + b, 0) / ps.length).toBeCloseTo(want.byName.probe![0]!, 6);
    expect(r.json.tokens[3].probes.probe).toEqual([]); // empty completion: no tokens
    const lean = await post(`${s.srv.url}/v1/rewards`, { completions: ['x'], per_token: false });
    expect(lean.json.tokens).toBeUndefined();
    const typo = await post(`${s.srv.url}/v1/rewards`, { completion: ['x'] });
    expect(typo.status).toBe(400);
    expect(typo.json.error).toMatch(/unknown field\(s\) "completion"/);
  });

  it('GET /health and /v1/info describe the model, fingerprint, probes, rewards and limits', async () => {
    const h = await getJson(`${s.srv.url}/health`);
    expect(h.status).toBe('ok');
    expect(h.passes).toBeGreaterThan(0);
    const info = await getJson(`${s.srv.url}/v1/info`);
    expect(info.fingerprint).toBe(s.scorer.frozen.fingerprint());
    expect(info.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.model.tokenizer).toBe('byte');
    expect(info.probes).toEqual([expect.objectContaining({ name: 'p', hook: 'blocks.0.hook_resid_post', level: 'token', fingerprint: info.fingerprint })]);
    expect(info.rewards.map((r: { name: string }) => r.name)).toEqual(['probe', 'correct', 'format', 'len']);
    expect(info.limits).toEqual({ max_body_bytes: TEST_LIMITS.maxBodyBytes, max_batch: 16, max_seq_len: N_CTX, timeout_ms: 5000 });
    expect((await fetch(`${s.srv.url}/nope`)).status).toBe(404);
    const wrongMethod = await fetch(`${s.srv.url}/get_reward`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('caps: oversize body 413, too many sequences or tokens 422, wrong content type 415', async () => {
    const big = await post(`${s.srv.url}/get_reward`, { query: ['x'.repeat(TEST_LIMITS.maxBodyBytes)] });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatch(/over 65536 bytes/);
    const many = await post(`${s.srv.url}/get_reward`, { query: Array(17).fill('a') });
    expect(many.status).toBe(422);
    expect(many.json.error).toMatch(/"query" has 17 items; this server scores at most 16/);
    const long = await post(`${s.srv.url}/v1/rewards`, { completions: ['ok', 'y'.repeat(N_CTX)] });
    expect(long.status).toBe(422);
    expect(long.json.error).toMatch(/completions\[1\] is 33 tokens \(prompt 1 \+ completion 32\); this server scores at most 32/);
    const text = await fetch(`${s.srv.url}/get_reward`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":["a"]}' });
    expect(text.status).toBe(415);
    expect((await post(`${s.srv.url}/get_reward`, { query: [] })).json.error).toMatch(/"query" is empty/);
    expect((await post(`${s.srv.url}/get_reward`, { query: 'a' })).json.error).toMatch(/"query" must be a list of strings, got string/);
    expect((await post(`${s.srv.url}/get_reward`, '{"query": [')).status).toBe(400);
  });

  it('malformed HTTP and unparseable targets get a 400, not a crash', async () => {
    const u = new URL(s.srv.url);
    const raw = (text: string) => new Promise<string>((resolve) => {
      const sock = connect(Number(u.port), u.hostname, () => sock.end(text));
      let got = '';
      sock.on('data', (d) => (got += d));
      sock.on('close', () => resolve(got));
    });
    expect(await raw('GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400[\s\S]*not a URL path/);
    expect(await raw('NONSENSE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${s.srv.url}/health`)).status).toBe(200);
  });

  it('dynamic batching: concurrent requests share one frozen pass, which runs as soon as it is full', async () => {
    // A max wait far longer than the test: only a full batch (5 requests × 3 = 15 sequences) can start the pass.
    const t = await serve(file, { batchSize: 15, maxWaitMs: 60_000 });
    try {
      const req = (i: number) => post(`${t.srv.url}/get_reward`, { query: [`a${i}`, `bb${i}`, `ccc${i}`] });
      const t0 = performance.now();
      const answers = await Promise.all([0, 1, 2, 3, 4].map(req));
      expect(performance.now() - t0).toBeLessThan(30_000);
      expect(answers.every((a) => a.status === 200 && a.json.rewards.length === 3)).toBe(true);
      expect(t.scorer.stats.passes).toBe(1);
      expect(t.scorer.stats.batchSizes).toEqual({ 15: 1 });
      // Each request's answer is its own rows: the same query at another row of another pass agrees.
      const alone = await Promise.all([req(3), ...[0, 1, 2, 4].map(req)]);
      expect(alone[0]!.json.rewards).toEqual(answers[3]!.json.rewards);
    } finally {
      await t.close();
    }
  });

  it('tensor count is flat across requests', async () => {
    await post(`${s.srv.url}/v1/rewards`, { completions: ['warm'] });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await post(`${s.srv.url}/v1/rewards`, { completions: ['x', 'yy'] });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('serve-reward batching, auth and timeouts', () => {
  it('splits a queue larger than --batch-size into passes of at most that size', async () => {
    // The long max wait makes the split deterministic: full batches of 4 run at once, the rest of 10 after the wait.
    const t = await serve(file, { batchSize: 4, maxWaitMs: 800 });
    try {
      const rs = await Promise.all([0, 1].map((i) => post(`${t.srv.url}/get_reward`, { query: Array.from({ length: 5 }, (_, k) => `s${i}${k}`) })));
      expect(rs.map((r) => r.status)).toEqual([200, 200]);
      expect(t.scorer.stats.passes).toBe(3); // 10 sequences, 4 + 4 + 2
      expect(t.scorer.stats.batchSizes).toEqual({ 4: 2, 2: 1 });
    } finally {
      await t.close();
    }
  });

  it('a bearer token: 401 without it, 403 when wrong, 200 when right; /health stays open', async () => {
    const t = await serve(file, { token: 's3cret' });
    try {
      const none = await post(`${t.srv.url}/get_reward`, { query: ['a'] });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(none.json.error).toMatch(/bearer token/);
      expect((await post(`${t.srv.url}/get_reward`, { query: ['a'] }, { authorization: 'Bearer nope' })).status).toBe(403);
      expect((await fetch(`${t.srv.url}/v1/info`)).status).toBe(401);
      expect((await post(`${t.srv.url}/get_reward`, { query: ['a'] }, { authorization: 'Bearer s3cret' })).status).toBe(200);
      expect((await fetch(`${t.srv.url}/health`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('timeouts: 503 when not scored in time, 408 when the body stalls; sequences of a timed-out or departed client leave the queue', async () => {
    const t = await serve(file, { timeoutMs: 1000, maxWaitMs: 5000 });
    try {
      const slow = await post(`${t.srv.url}/get_reward`, { query: ['a'] });
      expect(slow.status).toBe(503);
      expect(slow.json.error).toMatch(/not answered within 1000 ms/);
      expect(t.srv.batcher.queued).toBe(0);
      // A client that hangs up takes its queued sequences with it.
      const ac = new AbortController();
      const sent = performance.now();
      const gone = fetch(`${t.srv.url}/get_reward`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":["a","b"]}', signal: ac.signal });
      for (let i = 0; i < 100 && t.srv.batcher.queued < 2; i++) await new Promise((r) => setTimeout(r, 5));
      expect(t.srv.batcher.queued).toBe(2);
      ac.abort();
      await expect(gone).rejects.toThrow();
      for (let i = 0; i < 100 && t.srv.batcher.queued > 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(t.srv.batcher.queued).toBe(0);
      expect(performance.now() - sent).toBeLessThan(1000); // the hang-up emptied it, not the timeout
      expect(t.scorer.stats.passes).toBe(0);
      // Headers and half a body, then nothing: the server answers 408 and closes.
      const u = new URL(t.srv.url);
      const reply = await new Promise<string>((resolve) => {
        const sock = connect(Number(u.port), u.hostname, () => sock.write('POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":'));
        let got = '';
        sock.on('data', (d) => (got += d));
        sock.on('close', () => resolve(got));
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      expect(reply).toMatch(/did not arrive within 1000 ms/);
    } finally {
      await t.close();
    }
  });

  it('a reward that throws fails its pass with 500 and a message; the server keeps serving', async () => {
    const t = await serve(writeServeRecipe((dir) => {
      writeFileSync(join(dir, 'boom.mjs'), 'export default (b) => b.texts.map((x) => { if (x.includes("boom")) throw new Error("kaboom"); return 1; });');
      return `{ name: user, kind: module, path: ${join(dir, 'boom.mjs')} }`;
    }));
    try {
      const bad = await post(`${t.srv.url}/get_reward`, { query: ['a boom'] });
      expect(bad.status).toBe(500);
      expect(bad.json.error).toMatch(/reward "user" threw: kaboom/);
      const ok = await post(`${t.srv.url}/get_reward`, { query: ['fine'] });
      expect(ok.status).toBe(200);
      expect(ok.json.extra_logs.user).toEqual([1]);
    } finally {
      await t.close();
    }
  });

  it('refuses a recipe whose probe reward reads the live policy', async () => {
    const { RewardScorer } = await import('../../src/server/scorer.ts');
    const r = loadRecipe(file, { overrides: ['rewards.0.host=policy'] });
    await expect(RewardScorer.fromRecipe(r, 'x.yaml')).rejects.toThrow(/x\.yaml: reward\(s\) probe read the live policy/);
  });
});
