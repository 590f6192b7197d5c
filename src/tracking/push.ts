/**
 * `pushRun`: sends a run that did not reach a server (a spool left by a run whose server
 * was down, or a run in the local `./mlruns` layout) to an MLflow server. Each push
 * records what was acknowledged, so pushing again sends only what is still missing.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { RunRecord, StartRecord, TrackEvent } from './events.ts';
import { listKeys, parseMetricLine, readMeta, readValues, statusName } from './layout.ts';
import { apiMetricValue, MlflowRestClient } from './rest-client.ts';
import { Delivery } from './shipper.ts';
import { readSpool, Spool } from './spool.ts';

/** What one push did. */
export interface PushResult {
  source: string;
  runId: string;
  /** Events delivered now (a metric event is one step's values). */
  sent: number;
  /** Events the server refused for good (their reasons were warned). */
  refused: number;
}

const SPOOL_FILE = /^tracking-spool.*\.jsonl$/;
/** Kept in a local run's folder; a dot file, so MLflow's file store ignores it. */
const LOCAL_PUSH_STATE = '.bonsai-push.jsonl';

/**
 * Pushes `path` to the server at `url`: a spool file, a run folder holding spools
 * (`tracking-spool-*.jsonl`), or a run folder of the local MLflow layout (with meta.yaml).
 * Throws a BonsaiError when the server cannot take it; what was sent stays recorded.
 */
export async function pushRun(path: string, url: string, opts: { env?: NodeJS.ProcessEnv; warn?: (line: string) => void } = {}): Promise<PushResult[]> {
  const stat = await fsp.stat(path).catch(() => undefined);
  if (!stat) throw new BonsaiError(`${path} does not exist`);
  const client = new MlflowRestClient(url, opts.env ?? process.env);
  const warn = opts.warn ?? ((l: string) => console.warn(l));
  try {
    if (stat.isFile()) return [await pushSpool(client, path, warn)];
    const names = await fsp.readdir(path);
    const spools = names.filter((n) => SPOOL_FILE.test(n)).sort();
    if (spools.length) return await Promise.all(spools.map((n) => pushSpool(client, join(path, n), warn)));
    if (names.includes('meta.yaml')) return [await pushLocalRun(client, path, warn)];
    throw new BonsaiError(`${path} holds neither a tracking spool (tracking-spool-*.jsonl) nor a run of the local MLflow layout (meta.yaml)`, {
      hint: 'pass the run\'s out_dir, a spool file, or a run folder such as mlruns/<experiment_id>/<run_id>',
    });
  } finally {
    client.close();
  }
}

async function deliver(client: MlflowRestClient, spool: Spool, start: StartRecord, run: RunRecord | undefined, events: TrackEvent[], warn: (l: string) => void, source: string): Promise<PushResult> {
  const d = new Delivery(client, start, spool, run, (n, why) => warn(`bonsai: ${client.display} refused ${n} event(s) from ${source}: ${why}`), true);
  await d.send(events);
  return { source, runId: d.run!.runId, sent: d.sent, refused: d.refused };
}

async function pushSpool(client: MlflowRestClient, file: string, warn: (l: string) => void): Promise<PushResult> {
  const c = await readSpool(file);
  if (!c.start) throw new BonsaiError(`${file} is not a bonsai tracking spool (no start record)`);
  const spool = new Spool(file, () => []);
  spool.adopt(c.pending.map((e) => e.id), true);
  return deliver(client, spool, c.start, c.run, c.pending, warn, file);
}

/** Rebuilds a local run as events with ids fixed by their place in the files, so a re-push skips what was sent. */
async function pushLocalRun(client: MlflowRestClient, runDir: string, warn: (l: string) => void): Promise<PushResult> {
  const meta = await readMeta(runDir);
  const exp = await readMeta(dirname(runDir)).catch(() => undefined);
  const tags = await readValues(join(runDir, 'tags'));
  const start: StartRecord = {
    kind: 'start',
    experiment: String(exp?.name ?? 'Default'),
    runName: String(meta.run_name ?? tags['mlflow.runName'] ?? basename(runDir)),
    startTime: Number(meta.start_time ?? Date.now()),
    tags,
    url: client.display,
  };
  const events: TrackEvent[] = [];
  const params = await readValues(join(runDir, 'params'));
  if (Object.keys(params).length) events.push({ id: 'params', kind: 'params', params });
  for (const key of await listKeys(join(runDir, 'metrics'))) {
    (await fsp.readFile(join(runDir, 'metrics', key), 'utf8')).split('\n').forEach((line, i) => {
      let p;
      try {
        p = parseMetricLine(line);
      } catch {
        return; // blank or torn: nothing to send
      }
      events.push({ id: `m:${key}:${i}`, kind: 'metrics', timestamp: p.timestamp, step: p.step, values: { [key]: apiMetricValue(p.value) } });
    });
  }
  const artifacts = join(runDir, 'artifacts');
  for (const e of await fsp.readdir(artifacts, { withFileTypes: true }).catch(() => [])) {
    events.push({ id: `a:${e.name}`, kind: 'artifact', localPath: join(artifacts, e.name), ...(e.isDirectory() ? { artifactPath: e.name } : {}) });
  }
  const status = statusName(meta.status);
  if (status === 'FINISHED' || status === 'FAILED' || status === 'KILLED') events.push({ id: 'end', kind: 'end', status, endTime: Number(meta.end_time ?? Date.now()) });

  const statePath = join(runDir, LOCAL_PUSH_STATE);
  const prior = await readSpool(statePath).catch(() => undefined);
  const todo = events.filter((e) => !prior?.acked.has(e.id));
  const spool = new Spool(statePath, () => [start]);
  spool.adopt(todo.map((e) => e.id), prior !== undefined);
  return deliver(client, spool, start, prior?.run, todo, warn, runDir);
}
