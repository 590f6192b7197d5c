/**
 * Delivering a run's events to a server: the one path the live tracker's sender and
 * `bonsai runs push` share. A Delivery creates (or finds) the server run, sends events in
 * batches within MLflow's limits, artifacts through the proxied-artifacts API and the end
 * status last, and records every delivery or refusal in the run's spool.
 */
import { promises as fsp } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';
import { planBatches, type RunRecord, type StartRecord, type TrackEvent } from './events.ts';
import { MlflowHttpError, type ApiRun, type MlflowRestClient, type CallOptions } from './rest-client.ts';
import type { Spool } from './spool.ts';
import { RunNotResumable } from './types.ts';

/** Called as events are delivered, or refused for good (`rejected` says why). */
export type OnDone = (ids: string[], rejected?: string) => Promise<void> | void;

/** One run's events on their way to one server, each delivery or refusal acknowledged in its spool. */
export class Delivery {
  /** Events delivered, and refused for good, so far. */
  sent = 0;
  refused = 0;

  /**
   * @param run the server run when it exists already (one recorded for another server is not it)
   * @param keepRecord write the spool file as soon as the run exists: a push records what it
   *   sent; the live sender writes the file only once something has to wait
   */
  constructor(
    readonly client: MlflowRestClient,
    readonly start: StartRecord,
    readonly spool: Spool,
    public run: RunRecord | undefined,
    private readonly onRefused: (count: number, why: string) => void,
    private readonly keepRecord = false,
  ) {
    if (run?.url !== client.display) this.run = undefined;
  }

  /** The server run, created from the start record (and noted in the spool) when there is none yet. */
  async ensureRun(): Promise<RunRecord> {
    if (this.run) return this.run;
    this.run = await createServerRun(this.client, this.start);
    if (this.keepRecord && !this.spool.exists) await this.spool.append([]); // the header first, so the run record lands in a complete file
    await this.spool.noteRun(this.run);
    return this.run;
  }

  /** Sends `events` in order; `onSettled` hears of each batch. Throws what should be retried later. */
  async send(events: TrackEvent[], onSettled?: (ids: string[]) => void): Promise<void> {
    await ship(this.client, await this.ensureRun(), events, async (ids, why) => {
      onSettled?.(ids);
      if (why) this.onRefused(ids.length, why);
      this[why ? 'refused' : 'sent'] += ids.length;
      await this.spool.ack(ids, why);
    });
  }
}

/**
 * Creates the run a start record describes (its experiment too, when missing). A resume
 * record continues its run instead; when that run cannot be continued any more (deleted
 * while the server was out of reach) a new run is created, so no event is lost.
 */
export async function createServerRun(client: MlflowRestClient, start: StartRecord, opts: CallOptions = {}): Promise<RunRecord> {
  if (start.resumeRunId) {
    try {
      return (await resumeServerRun(client, start, opts)).run;
    } catch (e) {
      if (!(e instanceof RunNotResumable)) throw e;
    }
  }
  // A run without its end event is left RUNNING on the server, as MLflow's own client does.
  const experimentId = await client.getOrCreateExperiment(start.experiment, opts);
  const info = await client.createRun(
    { experiment_id: experimentId, run_name: start.runName, start_time: start.startTime, tags: Object.entries(start.tags).map(([key, value]) => ({ key, value })) },
    opts,
  );
  return { kind: 'run', runId: info.run_id, experimentId, artifactUri: info.artifact_uri, url: client.display };
}

/**
 * Reopens the run `start.resumeRunId` names: it must exist, be active, and belong to the
 * experiment `start.experiment`; then `runs/update` sets it RUNNING. MLflow's API cannot
 * clear end_time: it stays until the end event sets the new one (as `mlflow.start_run(run_id=…)` leaves it).
 */
export async function resumeServerRun(client: MlflowRestClient, start: StartRecord, opts: CallOptions = {}): Promise<{ run: RunRecord; params: Record<string, string>; tags: Record<string, string> }> {
  const runId = start.resumeRunId!;
  let found: ApiRun;
  try {
    found = await client.getRun(runId, opts);
  } catch (e) {
    if (e instanceof MlflowHttpError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw new RunNotResumable(runId, `${client.display} has no such run (deleted, or logged to another tracking uri)`);
    throw e;
  }
  if ((found.info.lifecycle_stage ?? 'active') !== 'active') throw new RunNotResumable(runId, `it was deleted on ${client.display}`);
  const experiment = await client.getExperimentByName(start.experiment, opts);
  if (experiment?.experiment_id !== found.info.experiment_id) {
    throw new RunNotResumable(runId, `it belongs to experiment ${found.info.experiment_id} on ${client.display}, the recipe logs to "${start.experiment}"`);
  }
  await client.updateRun({ run_id: runId, status: 'RUNNING' }, opts);
  const pairs = (kv?: Array<{ key: string; value: string }>) => Object.fromEntries((kv ?? []).map((p) => [p.key, p.value]));
  return {
    run: { kind: 'run', runId, experimentId: found.info.experiment_id, artifactUri: found.info.artifact_uri, url: client.display },
    params: pairs(found.data.params),
    tags: pairs(found.data.tags),
  };
}

/**
 * True when the error should stop sending and keep the events for later: the server is
 * unreachable or overloaded, or refuses these credentials (they may be fixed before a push).
 */
export function keepForLater(e: unknown): boolean {
  return !(e instanceof MlflowHttpError) || e.transient || e.status === 401 || e.status === 403;
}

/** `<experiment_id>/<run_id>/artifacts` for a proxied `mlflow-artifacts:` URI; undefined for s3:, file: and others. */
function proxiedArtifactPath(uri?: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(uri ?? '');
  return m ? m[1]!.replace(/\/+$/, '') : undefined;
}

/**
 * Sends `events` in order. Refused requests (a 400: bad key, changed param) are reported
 * through `onDone(ids, reason)` and skipped; a transient failure throws after `onDone`
 * has been told what did get through.
 */
export async function ship(client: MlflowRestClient, run: RunRecord, events: TrackEvent[], onDone: OnDone): Promise<void> {
  let i = 0;
  while (i < events.length) {
    let j = i;
    while (j < events.length && (['metrics', 'params', 'tags'] as string[]).includes(events[j]!.kind)) j++;
    if (j > i) {
      for (const req of planBatches(events.slice(i, j))) {
        const rejected = await attempt(() => client.logBatch({ run_id: run.runId, metrics: req.metrics, params: req.params, tags: req.tags }));
        await onDone(req.done, rejected);
      }
      i = j;
      continue;
    }
    const e = events[i++]!;
    if (e.kind === 'artifact') await onDone([e.id], await attempt(() => uploadArtifact(client, run, e.localPath, e.artifactPath)));
    else if (e.kind === 'end') await onDone([e.id], await attempt(() => client.updateRun({ run_id: run.runId, status: e.status, end_time: e.endTime })));
  }
}

/** Runs `fn`; a refusal for good becomes its message, anything to retry later is thrown. */
async function attempt(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    if (keepForLater(e)) throw e;
    return (e as Error).message;
  }
}

/** As the local store lays it out: a file at `<artifactPath>/<name>`, a folder's files under `<artifactPath or its name>/`. */
async function uploadArtifact(client: MlflowRestClient, run: RunRecord, localPath: string, artifactPath?: string): Promise<void> {
  const runPath = proxiedArtifactPath(run.artifactUri);
  if (runPath === undefined) {
    throw new MlflowHttpError(`the server stores artifacts at ${run.artifactUri ?? '(unknown)'}; bonsai uploads only through the proxied-artifacts API (mlflow-artifacts:), not s3:/file:/other stores`, 400);
  }
  const stat = await fsp.stat(localPath).catch(() => undefined);
  if (!stat) throw new MlflowHttpError(`artifact ${localPath} no longer exists`, 400);
  if (!stat.isDirectory()) {
    await client.putArtifact(runPath, posix.join(artifactPath ?? '', basename(localPath)), await fsp.readFile(localPath));
    return;
  }
  const root = artifactPath || basename(resolve(localPath));
  for (const rel of await listFiles(localPath)) {
    await client.putArtifact(runPath, posix.join(root, rel), await fsp.readFile(join(localPath, rel)));
  }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}
