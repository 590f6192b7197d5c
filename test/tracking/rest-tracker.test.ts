import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BonsaiError } from '../../src/errors.ts';
import { createTracker, LocalMlflowTracker, MlflowRestClient, pushRun, RestMlflowTracker, type RestTrackerOptions } from '../../src/tracking/index.ts';
import type { Tracker } from '../../src/tracking/types.ts';
import { FakeMlflow } from '../fakes/mlflow-server.ts';
import { tempDir } from '../helpers/recipes.ts';

const FAST = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.002', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0', MLFLOW_HTTP_REQUEST_TIMEOUT: '1', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2' };
const T0 = 1_700_000_000_000;
const servers: FakeMlflow[] = [];
async function fake(opts = {}) {
  const f = await FakeMlflow.start(opts);
  servers.push(f);
  return f;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const warnings: string[] = [];
const rest = (url: string, o: RestTrackerOptions = {}) =>
  new RestMlflowTracker(url, { env: FAST, retryIntervalMs: 30, drainTimeoutMs: 3000, systemMetricsMs: 0, warn: (l) => warnings.push(l), ...o });
/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const f = await FakeMlflow.start();
  const port = Number(new URL(f.url).port);
  await f.close();
  return port;
}

/** The same calls a training run makes, with fixed timestamps so both stores can be compared. */
async function logSampleRun(t: Tracker, dir: string, outDir?: string) {
  const art = join(dir, 'art');
  mkdirSync(join(art, 'ckpt', 'inner'), { recursive: true });
  writeFileSync(join(art, 'recipe.yaml'), 'run: {}\n');
  writeFileSync(join(art, 'ckpt', 'weights.bin'), Buffer.from([0, 1, 2, 255]));
  writeFileSync(join(art, 'ckpt', 'inner', 'x.json'), '{}');
  const run = await t.startRun({ experiment: 'parity', runName: 'same', tags: { 'bonsai.backend': 'cpu' }, parentRunId: 'abc', description: 'a note', outDir });
  await t.logParams(Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`p.${i}`, `v${i}`])));
  await t.logParams({ 'bad key!': 'x', long: 'y'.repeat(900) });
  for (let s = 0; s < 40; s++) t.logMetrics(s, { 'train/loss': 1 / (s + 1), 'train/lr': 0.1 }, T0 + s);
  t.logMetrics(40, { nan: NaN, inf: Infinity, ninf: -Infinity }, T0 + 40);
  await t.setTags({ 'bonsai.note': 'changed', 'bonsai.note2': 'x' });
  await t.logArtifact(join(art, 'recipe.yaml'));
  await t.logArtifact(join(art, 'ckpt'), 'checkpoint');
  await t.endRun('FINISHED');
  return run;
}

function readTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(join(dir, prefix))) return out;
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const k = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, readTree(dir, k));
    else out[k] = readFileSync(join(dir, k), 'latin1');
  }
  return out;
}
const fmt = (v: number | string) => (typeof v === 'string' ? { NaN: 'nan', Infinity: 'inf', '-Infinity': '-inf' }[v] : String(v));

describe('RestMlflowTracker', () => {
  it('logs the same params, metrics, tags and artifacts to the local layout and to a server', async () => {
    const dir = tempDir();
    const server = await fake();
    const local = new LocalMlflowTracker(join(dir, 'mlruns'), { systemMetricsMs: 0 });
    const { runDir } = await logSampleRun(local, dir);
    await logSampleRun(rest(server.url), dir, join(dir, 'out'));
    const remote = server.runByName('same')!;
    expect(remote.info.status).toBe('FINISHED');
    expect(Object.fromEntries(remote.params)).toEqual(readTree(join(runDir!, 'params')));
    expect(Object.fromEntries(remote.tags)).toEqual(readTree(join(runDir!, 'tags')));
    expect(remote.tags.get('mlflow.parentRunId')).toBe('abc');
    expect(remote.tags.get('mlflow.note.content')).toBe('a note');
    const lines: Record<string, string> = {};
    for (const m of remote.metrics) lines[m.key] = (lines[m.key] ?? '') + `${m.timestamp} ${fmt(m.value)} ${m.step}\n`;
    const localLines = readTree(join(runDir!, 'metrics'));
    expect(Object.keys(lines).sort()).toEqual(Object.keys(localLines).sort());
    for (const k of Object.keys(lines)) expect(lines[k]!.replace(/ (\d+)\.0 /g, ' $1 ')).toBe(localLines[k]!.replace(/ (\d+)\.0 /g, ' $1 '));
    const prefix = `${remote.info.experiment_id}/${remote.info.run_id}/artifacts/`;
    const remoteArtifacts = Object.fromEntries([...server.artifacts].map(([k, v]) => [k.slice(prefix.length), v.toString('latin1')]));
    expect(remoteArtifacts).toEqual(readTree(join(runDir!, 'artifacts')));
    expect(Object.keys(remoteArtifacts).sort()).toEqual(['checkpoint/inner/x.json', 'checkpoint/weights.bin', 'recipe.yaml']);
    const reader = new MlflowRestClient(server.url, FAST);
    expect([...(await reader.getArtifact(prefix.slice(0, -1), 'checkpoint/weights.bin'))]).toEqual([0, 1, 2, 255]);
    reader.close();
    expect(existsSync(join(dir, 'out'))).toBe(false); // nothing had to be spooled
  });

  it('createTracker picks the server tracker for http(s) URIs', () => {
    expect(createTracker('http://127.0.0.1:5000')).toBeInstanceOf(RestMlflowTracker);
    expect(createTracker('https://mlflow.example.com/prefix')).toBeInstanceOf(RestMlflowTracker);
  });

  it.each([[{ token: 'right' }, 401], [{ forbidden: true }, 403]])('refused credentials (%o) are a BonsaiError at startRun', async (opts, status) => {
    const server = await fake(opts);
    const t = rest(server.url, { env: { ...FAST, MLFLOW_TRACKING_TOKEN: 'wrong' } });
    const e = await t.startRun({ experiment: 'e', runName: 'r' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BonsaiError);
    expect((e as { status: number }).status).toBe(status);
    expect(String((e as Error).message) + (e as BonsaiError).hint).not.toContain('wrong');
  });

  it('an unreachable server at start: warns, spools, creates the run when the server comes up', async () => {
    const dir = tempDir();
    const port = await freePort();
    const t = rest(`http://127.0.0.1:${port}`);
    warnings.length = 0;
    const run = await t.startRun({ experiment: 'late', runName: 'late', outDir: dir });
    expect(warnings.join('\n')).toMatch(/unreachable.*training goes on/);
    for (let s = 0; s < 20; s++) t.logMetrics(s, { loss: s }, T0 + s);
    await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(dir).some((n) => n.startsWith('tracking-spool-'))).toBe(true);
    const server = await fake({ port });
    for (let s = 20; s < 30; s++) t.logMetrics(s, { loss: s }, T0 + s);
    await t.endRun('FINISHED');
    const r = server.runByName('late')!;
    expect(r.metrics.map((m) => m.step)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(r.info.status).toBe('FINISHED');
    expect(t.pendingNote()).toBeUndefined();
    expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('with MLflow\'s default backoff (minutes in all), a dead server costs start and end no more than a moment', async () => {
    const port = await freePort();
    const t = rest(`http://127.0.0.1:${port}`, { env: {}, drainTimeoutMs: 200 });
    const t0 = performance.now();
    await t.startRun({ experiment: 'e', runName: 'r', outDir: tempDir() });
    t.logMetrics(1, { loss: 1 });
    await t.endRun('FINISHED');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(t.pendingNote()).toMatch(/^2 tracking events pending/); // the metric and the end (the spool's start record recreates the run)
  });

  it('a full queue spills to the spool while a request hangs, and everything still arrives once', async () => {
    const server = await fake();
    const dir = tempDir();
    const t = rest(server.url, { queueLimit: 10 });
    await t.startRun({ experiment: 'e', runName: 'spill', outDir: dir });
    server.stall(1500); // longer than the 1 s request timeout
    for (let s = 0; s < 100; s++) {
      t.logMetrics(s, { loss: s }, T0 + s);
      if (s % 10 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(readdirSync(dir).some((n) => n.startsWith('tracking-spool-'))).toBe(true);
    await t.endRun('FINISHED');
    const steps = server.runByName('spill')!.metrics.map((m) => m.step).sort((a, b) => a - b);
    expect(steps).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(t.pendingNote()).toBeUndefined();
  });

  it('a server down to the end: the pending line, then `pushRun` sends everything once, and again sends nothing', async () => {
    const dir = tempDir();
    const port = await freePort();
    const t = rest(`http://127.0.0.1:${port}`, { drainTimeoutMs: 200, queueLimit: 5 });
    await logSampleRun(t, dir, join(dir, 'out'));
    const note = t.pendingNote()!;
    expect(note).toMatch(/^\d+ tracking events pending in .*tracking-spool-.*\.jsonl; send with `bonsai runs push .*out --to http:\/\/127\.0\.0\.1:\d+`/);
    const server = await fake({ port });
    const [res] = await pushRun(join(dir, 'out'), server.url, { env: FAST });
    expect(res!.sent).toBeGreaterThan(40);
    const r = server.runByName('same')!;
    expect(r.metrics).toHaveLength(83);
    expect(new Set(r.metrics.map((m) => `${m.key}@${m.step}`)).size).toBe(83);
    expect([r.params.size, r.info.status, r.tags.get('bonsai.note')]).toEqual([132, 'FINISHED', 'changed']);
    expect(server.artifacts.size).toBe(3);
    const again = await pushRun(join(dir, 'out'), server.url, { env: FAST });
    expect(again[0]!.sent).toBe(0);
    expect(server.runs.size).toBe(1);
    expect(r.metrics).toHaveLength(83);
  });

  it('pushRun sends a run of the local layout, and only once', async () => {
    const dir = tempDir();
    const local = new LocalMlflowTracker(join(dir, 'mlruns'), { systemMetricsMs: 0 });
    const { runDir } = await logSampleRun(local, dir);
    const server = await fake();
    await pushRun(runDir!, server.url, { env: FAST });
    await pushRun(runDir!, server.url, { env: FAST });
    expect(server.runs.size).toBe(1);
    const r = server.runByName('same')!;
    expect([r.metrics.length, r.params.size, r.info.status, server.artifacts.size]).toEqual([83, 132, 'FINISHED', 3]);
    expect(r.tags.get('mlflow.note.content')).toBe('a note');
    expect([...server.experiments.values()].map((e) => e.name)).toContain('parity');
    await expect(pushRun(dir, server.url)).rejects.toThrow(/neither a tracking spool/);
  });

  it('a server that refuses to create the run later: events stay in the spool, and the end says so', async () => {
    const dir = tempDir();
    const port = await freePort();
    warnings.length = 0;
    const t = rest(`http://127.0.0.1:${port}`);
    await t.startRun({ experiment: 'gone', runName: 'r', outDir: dir });
    const server = await fake({ port });
    server.failNext(1000, 400, { match: /runs\/create/ });
    for (let s = 0; s < 5; s++) t.logMetrics(s, { loss: s }, T0 + s);
    await new Promise((r) => setTimeout(r, 150));
    t.logMetrics(5, { loss: 5 }, T0 + 5);
    await t.endRun('FINISHED');
    expect(warnings.join('\n')).toMatch(/events are kept in/);
    expect(t.pendingNote()).toMatch(/^7 tracking events pending/); // 6 metric events and the end
    expect(server.runs.size).toBe(0);
  });

  it('logs system metrics under system/ on a timer', async () => {
    const server = await fake();
    const t = rest(server.url, { systemMetricsMs: 25 });
    await t.startRun({ experiment: 'sys', runName: 'sys' });
    await new Promise((r) => setTimeout(r, 120));
    await t.endRun('FINISHED');
    const keys = new Set(server.runByName('sys')!.metrics.map((m) => m.key));
    expect([...keys].sort()).toEqual(['system/cpu_utilization_percentage', 'system/system_memory_usage_megabytes', 'system/system_memory_usage_percentage']);
  });

  it('params are immutable here too, before anything is sent', async () => {
    const server = await fake();
    const t = rest(server.url);
    await t.startRun({ experiment: 'e', runName: 'r' });
    await t.logParams({ seed: '1' });
    await t.logParams({ seed: '1' });
    await expect(t.logParams({ seed: '2' })).rejects.toThrow(/cannot change/);
    await t.endRun('KILLED');
    expect(server.runByName('r')!.info.status).toBe('KILLED');
  });
});
