import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BonsaiError } from '../../../src/errors.ts';
import { RestRunStore } from '../../../src/tracking/store/index.ts';
import { startUiServer } from '../../../src/ui/server.ts';
import { FakeMlflow } from '../../fakes/mlflow-server.ts';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const HISTORY = [0, 1, 2, 3].map((step) => ({ key: 'loss', value: step === 3 ? 'NaN' : 4 - step, timestamp: 1000 + step, step }));

/** A tiny MLflow server: one page per item everywhere, so paging is exercised; bearer auth. */
function fakeMlflow(): Server {
  const runs = [
    { info: { run_id: A, experiment_id: '1', run_name: 'alpha', status: 'FINISHED', start_time: 2000, end_time: 3000 },
      data: { params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'mlflow.runName', value: 'alpha' }], metrics: [{ key: 'loss', value: 1, timestamp: 1003, step: 3 }] } },
    { info: { run_id: B, experiment_id: '1', run_name: 'beta', status: 'RUNNING', start_time: '1000' }, data: { params: [{ key: 'lr', value: '0.2' }] } },
    { info: { experiment_id: '1' }, data: {} }, // garbled: no run id
  ];
  const page = <T>(items: T[], token: string | null, field: string) => {
    const i = Number(token ?? 0);
    return { [field]: items.slice(i, i + 1), ...(i + 1 < items.length ? { next_page_token: String(i + 1) } : {}) };
  };
  return createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url!, 'http://x');
    const q = req.method === 'POST' ? JSON.parse(body) : Object.fromEntries(url.searchParams);
    const reply = (code: number, obj: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
    if (req.headers.authorization !== 'Bearer t0k') return reply(401, { error_code: 'UNAUTHENTICATED', message: 'no token' });
    const path = url.pathname.replace('/api/2.0/mlflow/', '');
    if (path === 'experiments/search') return reply(200, page([{ experiment_id: '0', name: 'Default' }, { experiment_id: '1', name: 'exp' }], q.page_token, 'experiments'));
    if (path === 'runs/search') return reply(200, page(runs.filter((r) => q.experiment_ids.includes(r.info.experiment_id)), q.page_token, 'runs'));
    if (path === 'runs/get') return reply(200, { run: runs.find((r) => r.info.run_id === q.run_id) });
    if (path === 'metrics/get-history' && q.run_id === A) return reply(200, page(HISTORY, q.page_token, 'metrics'));
    return reply(404, { error_code: 'ENDPOINT_NOT_FOUND', message: path });
  });
}

describe('RestRunStore against a fake MLflow server', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = fakeMlflow();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lists experiments and runs across pages; a garbled run record is unreadable', async () => {
    const store = new RestRunStore(url, { MLFLOW_TRACKING_TOKEN: 't0k' });
    const l = await store.list();
    expect(l.experiments).toEqual([{ id: '0', name: 'Default' }, { id: '1', name: 'exp' }]);
    expect(l.runs.map((r) => [r.name, r.status, r.startTime, r.endTime, r.params.lr])).toEqual([['alpha', 'FINISHED', 2000, 3000, '0.1'], ['beta', 'RUNNING', 1000, undefined, '0.2']]);
    expect(l.runs[0]!.metrics.loss).toEqual({ step: 3, timestamp: 1003, value: 1 });
    expect(l.unreadable).toEqual([{ path: 'runs/?', reason: 'run has no valid info.run_id' }]);
    expect((await store.list({ experiment: 'Default' })).runs).toEqual([]);
  });

  it('reads full histories, NaN included, and serves them through the ui API', async () => {
    const store = new RestRunStore(url, { MLFLOW_TRACKING_TOKEN: 't0k' });
    const h = await store.histories(A);
    expect(h.loss!.map((p) => p.value)).toEqual([4, 3, 2, NaN]);
    const ui = await startUiServer(store, { port: 0 });
    try {
      const api = (await (await fetch(`${ui.url}api/runs/${A}/metrics`)).json()) as { metrics: Record<string, { value: unknown[] }> };
      expect(api.metrics.loss!.value).toEqual([4, 3, 2, null]);
      expect(((await (await fetch(`${ui.url}api/runs`)).json()) as { unreadable: unknown[] }).unreadable).toHaveLength(1);
    } finally {
      await ui.close();
    }
  });

  it('refusals and an unreachable server are user errors with the reason', async () => {
    const denied = new RestRunStore(url, {});
    await expect(denied.list()).rejects.toThrow(/answered 401: UNAUTHENTICATED no token/);
    await expect(new RestRunStore('http://127.0.0.1:9', {}).list()).rejects.toThrow(BonsaiError);
  });
});

describe('RestRunStore over HTTPS: the same MLFLOW_* TLS variables as the tracker', () => {
  const TLS_DIR = fileURLToPath(new URL('../../fakes/tls/', import.meta.url));
  const tls = { key: readFileSync(join(TLS_DIR, 'key.pem')), cert: readFileSync(join(TLS_DIR, 'cert.pem')) };

  it('trusts MLFLOW_TRACKING_SERVER_CERT_PATH, skips checks with MLFLOW_TRACKING_INSECURE_TLS, and says which to set otherwise', async () => {
    const f = await FakeMlflow.start({ tls, basic: { user: 'u', password: 'secret' } });
    const auth = { MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'secret' };
    try {
      const id = 'c'.repeat(32);
      f.runs.set(id, { info: { run_id: id, experiment_id: '0', run_name: 'r', status: 'FINISHED', start_time: 1, artifact_uri: '', lifecycle_stage: 'active', user_id: '' }, params: new Map(), tags: new Map(), metrics: [{ key: 'loss', value: 2, timestamp: 5, step: 1 }] });
      const expected = { loss: [{ step: 1, timestamp: 5, value: 2 }] };
      const ca = new RestRunStore(f.url, { ...auth, MLFLOW_TRACKING_SERVER_CERT_PATH: join(TLS_DIR, 'cert.pem') });
      expect(await ca.histories(id)).toEqual(expected);
      expect(await new RestRunStore(f.url, { ...auth, MLFLOW_TRACKING_INSECURE_TLS: 'true' }).histories(id)).toEqual(expected);
      const untrusted = new RestRunStore(f.url, auth).histories(id);
      await expect(untrusted).rejects.toThrow(/TLS certificate not trusted/);
      await expect(untrusted).rejects.toMatchObject({ hint: expect.stringMatching(/MLFLOW_TRACKING_SERVER_CERT_PATH/) });
      expect(() => new RestRunStore(f.url, { MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: join(TLS_DIR, 'cert.pem') })).toThrow(/cannot both be set/);
      // Credentials in the URL authenticate and never show in the store's location.
      const inUrl = new RestRunStore(f.url.replace('https://', 'https://u:secret@'), { MLFLOW_TRACKING_INSECURE_TLS: 'true' });
      expect(inUrl.location).toBe(f.url);
      expect(await inUrl.histories(id)).toEqual(expected);
      await expect(new RestRunStore(f.url, { MLFLOW_TRACKING_INSECURE_TLS: 'true' }).histories(id)).rejects.toThrow(/answered 401/);
    } finally {
      await f.close();
    }
  });
});
