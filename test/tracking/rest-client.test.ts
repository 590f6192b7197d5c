import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { planBatches, type TrackEvent } from '../../src/tracking/events.ts';
import { backoffSeconds, connectionFromEnv, retryPolicyFromEnv } from '../../src/tracking/http.ts';
import { MlflowHttpError, MlflowRestClient } from '../../src/tracking/rest-client.ts';
import { FakeMlflow } from '../fakes/mlflow-server.ts';

const TLS_DIR = fileURLToPath(new URL('../fakes/tls/', import.meta.url));
/** MLflow's own variables, shrunk so retries take milliseconds. */
const FAST = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.002', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0', MLFLOW_HTTP_REQUEST_TIMEOUT: '2' };
const servers: FakeMlflow[] = [];
const clients: MlflowRestClient[] = [];
async function setup(opts = {}, env: NodeJS.ProcessEnv = FAST) {
  const fake = await FakeMlflow.start(opts);
  servers.push(fake);
  const client = new MlflowRestClient(fake.url, env);
  clients.push(client);
  return { fake, client };
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as MlflowHttpError);

async function newRun(client: MlflowRestClient) {
  return client.createRun({ experiment_id: await client.getOrCreateExperiment('e'), run_name: 'r' });
}

describe('retry policy (MLflow client rules)', () => {
  it('backs off 2·2^(n-1) s plus jitter, caps at 120 s, honours Retry-After, reads the env', () => {
    const p = retryPolicyFromEnv({});
    expect(p).toEqual({ maxRetries: 5, backoffFactorS: 2, jitterS: 1, timeoutMs: 120_000 });
    expect([1, 2, 3, 4, 5].map((n) => backoffSeconds(n, p, undefined, () => 0))).toEqual([2, 4, 8, 16, 32]);
    expect(backoffSeconds(1, p, undefined, () => 0.5)).toBe(2.5);
    expect(backoffSeconds(10, p, undefined, () => 0)).toBe(120);
    expect(backoffSeconds(1, p, '7')).toBe(7);
    expect(backoffSeconds(1, p, '999')).toBe(120);
    expect(retryPolicyFromEnv({ MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2', MLFLOW_HTTP_REQUEST_TIMEOUT: '3' })).toMatchObject({ maxRetries: 2, timeoutMs: 3000 });
  });

  it('auth and TLS from the environment; insecure TLS and a CA path together are refused', () => {
    const u = new URL('https://h');
    expect(connectionFromEnv(u, { MLFLOW_TRACKING_TOKEN: 't' }).headers.authorization).toBe('Bearer t');
    expect(connectionFromEnv(u, { MLFLOW_TRACKING_USERNAME: 'a', MLFLOW_TRACKING_PASSWORD: 'b' }).headers.authorization).toBe(`Basic ${Buffer.from('a:b').toString('base64')}`);
    expect(connectionFromEnv(u, { MLFLOW_TRACKING_INSECURE_TLS: 'true' }).tls.rejectUnauthorized).toBe(false);
    expect(() => connectionFromEnv(u, { MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: '/x' })).toThrow(/cannot both be set/);
  });

  it('retries 503, dropped connections and 429 with Retry-After, then succeeds', async () => {
    const { fake, client } = await setup();
    fake.failNext(3, 503);
    fake.dropNext(1);
    fake.failNext(1, 429, { retryAfter: '0' });
    expect(await client.getOrCreateExperiment('e')).toBe('1');
    expect(fake.log.filter((l) => l.endsWith(' 503'))).toHaveLength(3);
  });

  it('gives up after 5 retries (6 attempts) with the status and MLflow error code', async () => {
    const { fake, client } = await setup();
    fake.failNext(100, 500);
    const e = await errorOf(client.getExperimentByName('e'));
    expect(e).toBeInstanceOf(MlflowHttpError);
    expect(e!.status).toBe(500);
    expect(fake.log).toHaveLength(6);
  });

  it('does not retry 4xx, and reports unreachable servers as status 0', async () => {
    const { fake, client } = await setup();
    const e = await errorOf(client.updateRun({ run_id: 'nope', status: 'FINISHED' }));
    expect([e!.status, e!.errorCode]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    expect(fake.log).toHaveLength(1);
    const dead = new MlflowRestClient('http://127.0.0.1:1', { ...FAST, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1' });
    const d = await errorOf(dead.getExperimentByName('e'));
    expect(d!.status).toBe(0);
    expect(d!.transient).toBe(true);
  });

  it('401 and 403 carry a hint and never echo credentials', async () => {
    const { client } = await setup({ token: 'good' }, { ...FAST, MLFLOW_TRACKING_TOKEN: 'sekret-token' });
    const e = await errorOf(client.getExperimentByName('e'));
    expect([e!.status, e!.errorCode]).toEqual([401, 'UNAUTHENTICATED']);
    expect(e!.hint).toMatch(/MLFLOW_TRACKING_TOKEN/);
    expect(`${e!.message}${e!.hint}`).not.toContain('sekret');
    const ok = await setup({ basic: { user: 'u', password: 'p' }, forbidden: true }, { ...FAST, MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' });
    const f = await errorOf(ok.client.getOrCreateExperiment('e'));
    expect([f!.status, f!.errorCode]).toEqual([403, 'PERMISSION_DENIED']);
    const withUrlCreds = new MlflowRestClient(ok.fake.url.replace('http://', 'http://u:p@'), FAST);
    expect(withUrlCreds.display).not.toContain('u:p');
  });

  it('experiments by name: created once even when several callers race', async () => {
    const { fake, client } = await setup();
    const ids = await Promise.all(Array.from({ length: 5 }, () => client.getOrCreateExperiment('race')));
    expect(new Set(ids).size).toBe(1);
    expect(fake.log.some((l) => l.endsWith('experiments/create 400'))).toBe(true);
  });
});

describe('the fake server enforces the log-batch rules', () => {
  it('refuses over-limit batches, bad keys, duplicate and changed params, bad values', async () => {
    const { client } = await setup();
    const { run_id } = await newRun(client);
    const m = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `m${i}`, value: 1, timestamp: 1, step: 0 }));
    const kv = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const cases = [
      { metrics: m(1001) },
      { params: kv(101) },
      { tags: kv(101) },
      { metrics: m(950), tags: kv(51) },
      { params: [{ key: 'a', value: '1' }, { key: 'a', value: '1' }] },
      { metrics: [{ key: '../x', value: 1, timestamp: 1, step: 0 }] },
      { metrics: [{ key: 'x', value: 'nan', timestamp: 1, step: 0 }] },
      { tags: [{ key: 't', value: 'x'.repeat(1024 * 1024) }] },
    ];
    for (const c of cases) {
      const e = await errorOf(client.logBatch({ run_id, ...c }));
      expect([e?.status, e?.errorCode], JSON.stringify(c).slice(0, 80)).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    }
    await client.logBatch({ run_id, params: [{ key: 'seed', value: '1' }], metrics: [{ key: 'x', value: 'NaN', timestamp: 1, step: 0 }] });
    await client.logBatch({ run_id, params: [{ key: 'seed', value: '1' }] });
    const e = await errorOf(client.logBatch({ run_id, params: [{ key: 'seed', value: '2' }] }));
    expect(e!.message).toMatch(/Changing param values is not allowed/);
    expect((await errorOf(client.call('GET', 'no/such')))!.errorCode).toBe('ENDPOINT_NOT_FOUND');
  });

  it('planBatches keeps big batches within every limit, so the server takes them all', async () => {
    const { fake, client } = await setup();
    const { run_id } = await newRun(client);
    const events: TrackEvent[] = [
      { id: 'p', kind: 'params', params: Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, 'x'.repeat(500)])) },
      { id: 'p2', kind: 'params', params: { p0: 'x'.repeat(500) } }, // same key again: must go in another request
      { id: 't', kind: 'tags', tags: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, 'y'.repeat(5000)])) },
      ...Array.from({ length: 30 }, (_, s): TrackEvent => ({ id: `m${s}`, kind: 'metrics', step: s, timestamp: 5, values: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`metric/${i}`, i])) })),
    ];
    const reqs = planBatches(events);
    for (const r of reqs) {
      expect(r.metrics.length).toBeLessThanOrEqual(1000);
      expect(r.params.length + r.tags.length + r.metrics.length).toBeLessThanOrEqual(1000);
      expect(JSON.stringify({ run_id, ...r }).length).toBeLessThan(1_000_000);
      await client.logBatch({ run_id, metrics: r.metrics, params: r.params, tags: r.tags });
    }
    expect(reqs.flatMap((r) => r.done)).toEqual(events.map((e) => e.id));
    const run = fake.runs.get(run_id)!;
    expect([run.params.size, run.tags.size, run.metrics.length]).toEqual([250, 150, 3000]);
  });
});

describe('TLS from MLflow\'s variables', () => {
  const tls = { key: readFileSync(join(TLS_DIR, 'key.pem')), cert: readFileSync(join(TLS_DIR, 'cert.pem')) };

  it('trusts a CA from MLFLOW_TRACKING_SERVER_CERT_PATH, or skips checks with MLFLOW_TRACKING_INSECURE_TLS', async () => {
    const { client } = await setup({ tls }, { ...FAST, MLFLOW_TRACKING_SERVER_CERT_PATH: join(TLS_DIR, 'cert.pem') });
    expect(client.display).toMatch(/^https:/);
    expect(await client.getOrCreateExperiment('tls')).toBe('1');
    const insecure = new MlflowRestClient(client.display, { ...FAST, MLFLOW_TRACKING_INSECURE_TLS: 'true' });
    clients.push(insecure);
    expect(await insecure.getOrCreateExperiment('tls')).toBe('1');
  });

  it('an untrusted certificate is a clear error at once, not retried as an outage', async () => {
    const { fake, client } = await setup({ tls }, FAST);
    const e = await errorOf(client.getExperimentByName('x'));
    expect([e!.status, e!.transient]).toEqual([495, false]);
    expect(e!.message).toMatch(/TLS certificate not trusted/);
    expect(e!.hint).toMatch(/MLFLOW_TRACKING_SERVER_CERT_PATH/);
    expect(fake.log).toHaveLength(0);
  });
});
