/** `Tracker.resumeRun`: the MLflow file store, a server (the fake, which enforces specs/mlflow.md §1), and the null tracker. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { BonsaiError } from '../../src/errors.ts';
import { LocalMlflowTracker, NullTracker, pushRun, RestMlflowTracker, RunNotResumable } from '../../src/tracking/index.ts';
import { FakeMlflow } from '../fakes/mlflow-server.ts';
import { tempDir } from '../helpers/recipes.ts';

const FAST = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.002', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0', MLFLOW_HTTP_REQUEST_TIMEOUT: '1', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2' };
const servers: FakeMlflow[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function fake(): Promise<FakeMlflow> {
  const f = await FakeMlflow.start();
  servers.push(f);
  return f;
}
const warnings: string[] = [];
const rest = (url: string, drainTimeoutMs = 3000) => new RestMlflowTracker(url, { env: FAST, retryIntervalMs: 30, drainTimeoutMs, systemMetricsMs: 0, warn: (l) => warnings.push(l) });
const local = (root: string, now = () => 1000) => new LocalMlflowTracker(root, { now, systemMetricsMs: 0, flushEveryMs: 60_000 });
const meta = (runDir: string) => YAML.parse(readFileSync(join(runDir, 'meta.yaml'), 'utf8'), { version: '1.1' }) as Record<string, unknown>;
const metricLines = (runDir: string, key: string) => readFileSync(join(runDir, 'metrics', key), 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number));

describe('LocalMlflowTracker.resumeRun', () => {
  it('continues a stopped run: same id and folder, RUNNING again with end_time cleared, metrics appended, params kept', async () => {
    const root = join(tempDir(), 'mlruns');
    let now = 1000;
    const first = local(root, () => now);
    const run = await first.startRun({ experiment: 'e', runName: 'r', tags: { a: '1' } });
    await first.logParams({ lr: '0.1' });
    first.logMetrics(1, { loss: 3 }, 10);
    first.logMetrics(2, { loss: 2 }, 20);
    now = 2000;
    await first.endRun('KILLED');
    expect(meta(run.runDir!)).toMatchObject({ status: 5, end_time: 2000, start_time: 1000 });

    const second = local(root, () => now);
    const again = await second.resumeRun(run.runId, { experiment: 'e', runName: 'renamed?', tags: { a: '2', 'bonsai.resumed': '1' } });
    expect(again).toMatchObject({ runId: run.runId, experimentId: run.experimentId, runDir: run.runDir, params: { lr: '0.1' } });
    expect(again.tags).toMatchObject({ a: '1', 'mlflow.runName': 'r' });
    expect(meta(run.runDir!)).toMatchObject({ status: 1, end_time: null, start_time: 1000, run_name: 'r' });
    // The same value again is fine; a changed one is refused naming the param; new keys are added once.
    await second.logParams({ lr: '0.1', steps: '8' });
    await expect(second.logParams({ lr: '0.2' })).rejects.toThrow(/param "lr" was already logged as "0.1"/);
    second.logMetrics(3, { loss: 1 }, 30);
    now = 3000;
    await second.endRun('FINISHED');
    expect(meta(run.runDir!)).toMatchObject({ status: 3, end_time: 3000, start_time: 1000 });
    expect(metricLines(run.runDir!, 'loss')).toEqual([[10, 3, 1], [20, 2, 2], [30, 1, 3]]);
    expect(readFileSync(join(run.runDir!, 'params', 'lr'), 'utf8')).toBe('0.1');
    expect(readFileSync(join(run.runDir!, 'params', 'steps'), 'utf8')).toBe('8');
    expect(readFileSync(join(run.runDir!, 'tags', 'a'), 'utf8')).toBe('2');
    expect(readFileSync(join(run.runDir!, 'tags', 'mlflow.runName'), 'utf8')).toBe('r'); // the run keeps its name
  });

  it('refuses, with the reason, a run that is unknown, deleted, in another experiment, or not an id', async () => {
    const root = join(tempDir(), 'mlruns');
    const t = local(root);
    const run = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.endRun('FAILED');
    const reason = (id: string, experiment = 'e') => local(root).resumeRun(id, { experiment, runName: 'r' }).then(() => 'resumed', (e: unknown) => (e instanceof RunNotResumable ? e.reason : `other: ${e}`));
    expect(await reason('f'.repeat(32))).toMatch(/not in the store .*mlruns/);
    expect(await reason('../../etc')).toBe('it is not an MLflow run id');
    expect(await reason(run.runId, 'other')).toBe('it belongs to experiment "e", the recipe logs to "other"');
    const m = meta(run.runDir!);
    writeFileSync(join(run.runDir!, 'meta.yaml'), YAML.stringify({ ...m, lifecycle_stage: 'deleted' }));
    expect(await reason(run.runId)).toBe('it was deleted');
    // A refused resume leaves the tracker free for a new run.
    const t2 = local(root);
    await expect(t2.resumeRun(run.runId, { experiment: 'e', runName: 'r' })).rejects.toThrow(RunNotResumable);
    expect((await t2.startRun({ experiment: 'e', runName: 'r' })).runId).not.toBe(run.runId);
    await t2.endRun('FINISHED');
  });
});

describe('RestMlflowTracker.resumeRun against the fake server', () => {
  it('continues the server run: runs/update RUNNING, then the end status; metrics appended; known params not re-sent', async () => {
    const f = await fake();
    const t = rest(f.url);
    const run = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.logParams({ lr: '0.1' });
    t.logMetrics(1, { loss: 3 }, 10);
    await t.endRun('KILLED');
    const server = f.runs.get(run.runId)!;
    expect(server.info.status).toBe('KILLED');

    const t2 = rest(f.url);
    const again = await t2.resumeRun(run.runId, { experiment: 'e', runName: 'r', tags: { 'bonsai.resumed': '1' } });
    expect(again).toMatchObject({ runId: run.runId, experimentId: run.experimentId, params: { lr: '0.1' } });
    expect(server.info.status).toBe('RUNNING');
    await t2.logParams({ lr: '0.1', steps: '8' });
    await expect(t2.logParams({ lr: '0.2' })).rejects.toThrow(BonsaiError);
    t2.logMetrics(2, { loss: 2 }, 20);
    await t2.endRun('FINISHED');
    expect(f.runs.size).toBe(1);
    expect(server.statusHistory).toEqual(['KILLED', 'RUNNING', 'FINISHED']);
    expect(server.metrics.map((m) => [m.step, m.value])).toEqual([[1, 3], [2, 2]]);
    expect(Object.fromEntries(server.params)).toEqual({ lr: '0.1', steps: '8' });
    expect(server.tags.get('bonsai.resumed')).toBe('1');
    expect(f.log.filter((l) => / POST \/api\/2\.0\/mlflow\/runs\/log-batch 400/.test(l))).toEqual([]);
    expect(t2.pendingNote()).toBeUndefined();
  });

  it('refuses a run the server does not have, a deleted one, or one in another experiment, and can then start a new run', async () => {
    const f = await fake();
    const t = rest(f.url);
    const run = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.endRun('FAILED');
    const t2 = rest(f.url);
    await expect(t2.resumeRun('f'.repeat(32), { experiment: 'e', runName: 'r' })).rejects.toThrow(/has no such run/);
    await expect(t2.resumeRun(run.runId, { experiment: 'other', runName: 'r' })).rejects.toThrow(/belongs to experiment 1 .* the recipe logs to "other"/);
    f.runs.get(run.runId)!.info.lifecycle_stage = 'deleted';
    await expect(t2.resumeRun(run.runId, { experiment: 'e', runName: 'r' })).rejects.toThrow(RunNotResumable);
    const fresh = await t2.startRun({ experiment: 'e', runName: 'r' });
    await t2.endRun('FINISHED');
    expect(fresh.runId).not.toBe(run.runId);
    expect(f.runs.get(fresh.runId)!.info.status).toBe('FINISHED');
  });

  it('resumes offline: the spool records the resume, and `runs push` continues the same run', async () => {
    const f = await fake();
    const t = rest(f.url);
    const run = await t.startRun({ experiment: 'e', runName: 'r' });
    t.logMetrics(1, { loss: 3 }, 10);
    await t.endRun('KILLED');
    const url = f.url;
    await f.close();
    servers.splice(0);

    const outDir = tempDir();
    const t2 = rest(url, 200);
    const again = await t2.resumeRun(run.runId, { experiment: 'e', runName: 'r', outDir });
    expect(again.runId).toBe(run.runId); // trusted from the checkpoint while the server is away
    t2.logMetrics(2, { loss: 2 }, 20);
    await t2.endRun('FINISHED');
    expect(t2.pendingNote()).toMatch(/tracking events pending/);

    // The same server, back on the same port with the run still there.
    const back = await FakeMlflow.start({ port: Number(new URL(url).port) });
    servers.push(back);
    back.experiments.set('1', { experiment_id: '1', name: 'e', artifact_location: 'mlflow-artifacts:/1', lifecycle_stage: 'active' });
    back.runs.set(run.runId, { info: { run_id: run.runId, experiment_id: '1', run_name: 'r', status: 'KILLED', start_time: 1, end_time: 2, artifact_uri: `mlflow-artifacts:/1/${run.runId}/artifacts`, lifecycle_stage: 'active', user_id: '' }, params: new Map(), tags: new Map(), metrics: [] });
    const pushed = await pushRun(t2.spoolPath!, url, { env: FAST, warn: () => {} });
    expect(pushed.map((p) => p.runId)).toEqual([run.runId]);
    expect(back.runs.size).toBe(1);
    expect(back.runs.get(run.runId)!.statusHistory).toEqual(['RUNNING', 'FINISHED']);
    expect(back.runs.get(run.runId)!.metrics.map((m) => m.step)).toEqual([2]);
  });
});

describe('the fake server enforces runs/update', () => {
  it('refuses an unknown status and writes to a deleted run, as MLflow does', async () => {
    const f = await fake();
    const t = rest(f.url);
    const run = await t.startRun({ experiment: 'e', runName: 'r' });
    await t.endRun('FINISHED');
    const post = (body: object) => fetch(`${f.url}/api/2.0/mlflow/runs/update`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => [r.status, ((await r.json()) as { error_code?: string }).error_code]);
    expect(await post({ run_id: run.runId, status: 'DONE' })).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(await post({ run_id: run.runId, end_time: -1 })).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    expect(await post({ run_id: 'f'.repeat(32), status: 'RUNNING' })).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
    f.runs.get(run.runId)!.info.lifecycle_stage = 'deleted';
    expect(await post({ run_id: run.runId, status: 'RUNNING' })).toEqual([400, 'INVALID_STATE']);
  });
});

describe('NullTracker.resumeRun', () => {
  it('goes on with the same id', async () => {
    expect(await new NullTracker().resumeRun('a'.repeat(32), { experiment: 'e', runName: 'r' })).toEqual({ runId: 'a'.repeat(32), experimentId: '', params: {}, tags: {} });
  });
});
