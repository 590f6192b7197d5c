import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRayToken } from '../../src/distributed/auth.ts';
import { normalizeAddress, RayJobsClient } from '../../src/distributed/client.ts';
import { FakeRayDashboard } from '../fakes/ray-dashboard.ts';
import { failure, freePort } from '../helpers/async.ts';
import { tempDir } from '../helpers/recipes.ts';

describe('RayJobsClient against the fake dashboard', () => {
  let fake: FakeRayDashboard;
  let client: RayJobsClient;
  beforeAll(async () => {
    fake = await FakeRayDashboard.start({ token: 't0ken', scriptLogs: ['step 1\n', 'step 2\n', 'done\n'] });
    client = new RayJobsClient(`${fake.url}/`, { token: 't0ken' });
  });
  afterAll(async () => fake?.close());

  it('reads the version and walks a job PENDING -> RUNNING -> SUCCEEDED, its log streamed until it ends', async () => {
    expect((await client.version()).ray_version).toBe('2.52.0');
    const { submission_id: id } = await client.submit({ entrypoint: 'echo hi', metadata: { a: 'b' } });
    expect((await client.status(id)).status).toBe('PENDING');
    const chunks: string[] = [];
    await client.followLogs(id, (c) => chunks.push(c));
    expect(chunks.join('')).toBe('step 1\nstep 2\ndone\n');
    const done = await client.status(id);
    expect(done.status).toBe('SUCCEEDED');
    expect(fake.jobs.get(id)!.history).toEqual(['PENDING', 'RUNNING', 'SUCCEEDED']);
    expect(await client.logs(id)).toBe('step 1\nstep 2\ndone\n');
    expect((await client.list()).map((j) => j.submission_id)).toContain(id);
    expect(await client.stop(id)).toBe(false); // already over
    expect(await client.delete(id)).toBe(true);
    await expect(client.status(id)).rejects.toThrow(`Job ${id} does not exist`);
  });

  it('refuses to delete a running job with Ray\'s own text, then stops and deletes it', async () => {
    const held = await FakeRayDashboard.start({ hold: true });
    try {
      const c = new RayJobsClient(held.url, { token: '' });
      const { submission_id: id } = await c.submit({ entrypoint: 'sleep 100', submission_id: 'mine-1' });
      expect(id).toBe('mine-1');
      await expect(c.submit({ entrypoint: 'x', submission_id: 'mine-1' })).rejects.toThrow(/already exists/);
      await new Promise((r) => setTimeout(r, 60));
      expect((await c.status(id)).status).toBe('RUNNING');
      const err = await failure(c.delete(id));
      expect(err.message).toMatch(/Ray answered 400 to DELETE .*mine-1:\nAttempted to delete job .* not in a terminal state/);
      expect(await c.stop(id)).toBe(true);
      expect((await c.status(id)).status).toBe('STOPPED');
      expect(await c.delete(id)).toBe(true);
    } finally {
      await held.close();
    }
  });

  it('stops a job whose process is running, and the process ends', async () => {
    const runner = await FakeRayDashboard.start({ mode: 'run' });
    try {
      const c = new RayJobsClient(runner.url, { token: '' });
      const { submission_id: id } = await c.submit({ entrypoint: 'echo started; sleep 30; echo never' });
      while (!(await c.logs(id)).includes('started')) await new Promise((r) => setTimeout(r, 20));
      const child = runner.jobs.get(id)!.child!;
      const exited = new Promise((r) => child.once('exit', r));
      expect(await c.stop(id)).toBe(true);
      await exited;
      expect((await c.status(id)).status).toBe('STOPPED');
      expect(await c.logs(id)).toBe('started\n');
    } finally {
      await runner.close();
    }
  });

  it('says when an address answers but is not a Ray dashboard', async () => {
    const err = await failure(new RayJobsClient(`${fake.url}/not-ray`, { token: 't0ken' }).version());
    expect(err.message).toMatch(/Ray answered 404 to GET .*\/not-ray\/api\/version:\n404: Not Found/);
    expect(err.hint).toMatch(/does not look like a Ray dashboard/);
  });

  it('keeps the trailing slash Ray routes POST /api/jobs/ by (without it the fake, like aiohttp, answers 404)', async () => {
    const res = await fetch(`${fake.url}/api/jobs`, { method: 'POST', headers: { Authorization: 'Bearer t0ken' }, body: '{"entrypoint":"x"}' });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('404: Not Found');
    expect(fake.log).toContain('POST /api/jobs/ 200');
  });

  it('stores a package only once: GET 404, PUT, then GET 200', async () => {
    const uri = 'gcs://_ray_pkg_0123abcd.zip';
    expect(await client.packageExists(uri)).toBe(false);
    await client.uploadPackage(uri, Buffer.from('PK\x05\x06'));
    expect(await client.packageExists(uri)).toBe(true);
    expect(fake.log.filter((l) => l.includes('_ray_pkg_0123abcd'))).toEqual([
      'GET /api/packages/gcs/_ray_pkg_0123abcd.zip 404',
      'PUT /api/packages/gcs/_ray_pkg_0123abcd.zip 200',
      'GET /api/packages/gcs/_ray_pkg_0123abcd.zip 200',
    ]);
  });

  it('says 401 (no token) and 403 (wrong token) apart, with what to set', async () => {
    const none = await failure(new RayJobsClient(fake.url, { token: '' }).version());
    expect(none.message).toMatch(/no auth token \(401\): Unauthorized: Missing authentication token/);
    expect(none.hint).toMatch(/RAY_AUTH_TOKEN/);
    const wrong = await failure(new RayJobsClient(fake.url, { token: 'nope' }).list());
    expect(wrong.message).toMatch(/not valid \(403\)/);
    const ws = await failure(new RayJobsClient(fake.url, { token: 'nope' }).followLogs('x', () => {}));
    expect(ws.message).toMatch(/403/);
  });

  it('names an unknown job with Ray\'s text, for status, logs, follow and stop', async () => {
    for (const call of [client.status('ghost'), client.logs('ghost'), client.followLogs('ghost', () => {}), client.stop('ghost')]) {
      const err = await failure(call);
      expect(err.message).toContain('Job ghost does not exist');
      expect(err.hint).toContain('bonsai ray list');
    }
  });

  it('says an address cannot be reached, and refuses a ray:// client address', async () => {
    const port = await freePort();
    const err = await failure(new RayJobsClient(`http://127.0.0.1:${port}`, { token: '' }).version());
    expect(err.message).toBe(`cannot reach the Ray dashboard at http://127.0.0.1:${port} (GET /api/version: ECONNREFUSED)`);
    expect(err.hint).toMatch(/RAY_ADDRESS/);
    expect(() => normalizeAddress('ray://head:10001')).toThrow(/Ray client address/);
    expect(normalizeAddress('head:8265/')).toBe('http://head:8265');
  });
});

describe('the Ray auth token', () => {
  it('comes from RAY_AUTH_TOKEN, else RAY_AUTH_TOKEN_PATH, else ~/.ray/auth_token', () => {
    const home = tempDir('bonsai-home-');
    expect(resolveRayToken({}, home)).toBeUndefined();
    mkdirSync(join(home, '.ray'));
    writeFileSync(join(home, '.ray', 'auth_token'), 'from-home\n');
    expect(resolveRayToken({}, home)).toBe('from-home');
    const file = join(home, 'tok');
    writeFileSync(file, ' from-path \n');
    expect(resolveRayToken({ RAY_AUTH_TOKEN_PATH: file }, home)).toBe('from-path');
    expect(resolveRayToken({ RAY_AUTH_TOKEN: 'direct', RAY_AUTH_TOKEN_PATH: file }, home)).toBe('direct');
    expect(() => resolveRayToken({ RAY_AUTH_TOKEN_PATH: join(home, 'missing') }, home)).toThrow(/RAY_AUTH_TOKEN_PATH.*ENOENT/);
  });
});
