import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BonsaiError } from '../errors.ts';
import { checkArtifactPath, isNewParam, sanitizeKeyWarnOnce, truncateValue } from './keys.ts';
import { fileUri, readExperimentMeta, STATUS_CODE, writeMeta } from './layout.ts';
import { MetricBuffer } from './metric-buffer.ts';
import { currentUser, defaultRunTags } from './run-tags.ts';
import { SYSTEM_METRICS_MS, startSystemMetrics } from './system-metrics.ts';
import { ensureStore, getOrCreateExperiment } from './local-store.ts';
import { findResumableRun } from './local-resume.ts';
import type { ResumedRun, RunEndStatus, StartedRun, StartRunOptions, Tracker } from './types.ts';

/** Buffered metrics are written at least this often, so a crash loses little. */
const AUTO_FLUSH_MS = 2_000;

interface Run {
  id: string;
  experimentId: string;
  dir: string;
  /** Local folder for artifacts; undefined when the experiment stores them elsewhere (s3://…). */
  artifactDir?: string;
  meta: Record<string, unknown>;
}

/** The local folder of a run's artifact URI; undefined for a remote one (s3://…). */
function localArtifactDir(artifactUri: string): string | undefined {
  if (artifactUri.startsWith('file:')) return fileURLToPath(artifactUri);
  return isAbsolute(artifactUri) ? artifactUri : undefined; // old MLflow wrote bare paths
}

/**
 * Writes runs in MLflow's file store layout under `root` (e.g. `./mlruns`), readable by
 * `mlflow ui --backend-store-uri ./mlruns` and `mlflow migrate-filestore`.
 */
export class LocalMlflowTracker implements Tracker {
  readonly root: string;
  private readonly now: () => number;
  private readonly flushEveryMs: number;
  private readonly systemMetricsMs: number;
  private stopSystemMetrics = () => {};
  private run?: Run;
  private readonly metrics = new MetricBuffer(() => this.run && join(this.run.dir, 'metrics'));

  /**
   * @param opts.now clock in ms for start/end/creation times (tests pin it to check bytes)
   * @param opts.flushEveryMs how often buffered metrics are written in the background
   * @param opts.systemMetricsMs how often `system/` metrics are sampled (0: never)
   */
  constructor(root: string, opts: { now?: () => number; flushEveryMs?: number; systemMetricsMs?: number } = {}) {
    this.systemMetricsMs = opts.systemMetricsMs ?? SYSTEM_METRICS_MS;
    this.root = resolve(root);
    this.now = opts.now ?? Date.now;
    this.flushEveryMs = opts.flushEveryMs ?? AUTO_FLUSH_MS;
  }

  async startRun(opts: StartRunOptions): Promise<StartedRun> {
    if (this.run) throw new BonsaiError(`a run (${this.run.id}) is already open on this tracker; call endRun first`);
    await ensureStore(this.root, this.now);
    const experimentId = await getOrCreateExperiment(this.root, opts.experiment, this.now);
    const id = randomUUID().replace(/-/g, '');
    const dir = join(this.root, experimentId, id);
    const user = currentUser();
    // Like MLflow, artifacts follow the experiment's artifact_location, which may be custom.
    const expMeta = await readExperimentMeta(this.root, experimentId);
    const location = typeof expMeta?.artifact_location === 'string' ? expMeta.artifact_location : fileUri(join(this.root, experimentId));
    const artifactUri = `${location.replace(/\/+$/, '')}/${id}/artifacts`;
    // Exactly the fields `_make_persisted_run_info_dict` writes.
    const meta = {
      artifact_uri: artifactUri,
      end_time: null,
      entry_point_name: '',
      experiment_id: experimentId,
      lifecycle_stage: 'active',
      run_id: id,
      run_name: opts.runName,
      run_uuid: id,
      source_name: '',
      source_type: 4,
      source_version: '',
      start_time: this.now(),
      status: STATUS_CODE.RUNNING,
      tags: [],
      user_id: user,
    };
    for (const sub of ['metrics', 'params', 'artifacts', 'tags']) await fsp.mkdir(join(dir, sub), { recursive: true });
    await writeMeta(dir, meta);
    this.run = { id, experimentId, dir, artifactDir: localArtifactDir(artifactUri), meta };
    await this.setTags(defaultRunTags(opts));
    this.startBackground();
    return { runId: id, experimentId, runDir: dir };
  }

  /**
   * Continues an ended run of `opts.experiment`: meta.yaml back to RUNNING with end_time
   * cleared (as for a new run; endRun sets both again), metrics appended to its files, and
   * only `opts.tags` (and the parent) set: the run keeps its name, user and start time.
   */
  async resumeRun(runId: string, opts: StartRunOptions): Promise<ResumedRun> {
    if (this.run) throw new BonsaiError(`a run (${this.run.id}) is already open on this tracker; call endRun first`);
    const found = await findResumableRun(this.root, runId, opts.experiment);
    const meta: Record<string, unknown> = { ...found.meta, status: STATUS_CODE.RUNNING, end_time: null };
    await writeMeta(found.dir, meta);
    const artifactUri = String(meta.artifact_uri ?? fileUri(join(found.dir, 'artifacts')));
    this.run = { id: runId, experimentId: found.experimentId, dir: found.dir, artifactDir: localArtifactDir(artifactUri), meta };
    await this.setTags({ ...(opts.parentRunId ? { 'mlflow.parentRunId': opts.parentRunId } : {}), ...opts.tags });
    this.startBackground();
    return { runId, experimentId: found.experimentId, runDir: found.dir, params: found.params, tags: found.tags };
  }

  private startBackground(): void {
    this.metrics.start(this.flushEveryMs);
    this.stopSystemMetrics = startSystemMetrics((step, values) => this.logMetrics(step, values), this.systemMetricsMs);
  }

  async logParams(params: Record<string, string>): Promise<void> {
    const run = this.requireRun('logParams');
    for (const [rawKey, rawValue] of Object.entries(params)) {
      const key = sanitizeKeyWarnOnce(rawKey, 'param');
      const value = truncateValue(String(rawValue));
      const path = join(run.dir, 'params', key);
      if (!isNewParam(key, await fsp.readFile(path, 'utf8').catch(() => undefined), value)) continue;
      await fsp.mkdir(dirname(path), { recursive: true });
      await fsp.writeFile(path, value); // no trailing newline, as MLflow writes it
    }
  }

  logMetrics(step: number, record: Record<string, number>, timestampMs?: number): void {
    this.metrics.add(step, record, timestampMs);
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    const run = this.requireRun('setTags');
    for (const [rawKey, value] of Object.entries(tags)) {
      const key = sanitizeKeyWarnOnce(rawKey, 'tag');
      const path = join(run.dir, 'tags', key);
      await fsp.mkdir(dirname(path), { recursive: true });
      await fsp.writeFile(path, String(value));
      // MLflow keeps meta.yaml's run_name in step with the mlflow.runName tag.
      if (key === 'mlflow.runName' && run.meta.run_name !== value) {
        run.meta.run_name = String(value);
        await writeMeta(run.dir, run.meta);
      }
    }
  }

  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    const run = this.requireRun('logArtifact');
    checkArtifactPath(artifactPath);
    if (!run.artifactDir) {
      throw new BonsaiError(`experiment ${run.experimentId} keeps artifacts at ${String(run.meta.artifact_uri)}; bonsai writes local (file:) artifacts only`);
    }
    const stat = await fsp.stat(localPath).catch(() => undefined);
    if (!stat) throw new BonsaiError(`cannot log artifact ${localPath}: it does not exist`);
    // As MLflow: a file lands at <artifactPath>/<name>; a folder's contents at <artifactPath>,
    // or under its own name when no artifactPath is given.
    const dest = stat.isDirectory()
      ? join(run.artifactDir, artifactPath || basename(resolve(localPath)))
      : join(run.artifactDir, artifactPath ?? '', basename(localPath));
    await fsp.mkdir(stat.isDirectory() ? dest : dirname(dest), { recursive: true });
    await fsp.cp(localPath, dest, { recursive: true, force: true });
  }

  flush(): Promise<void> {
    return this.metrics.flush();
  }

  async endRun(status: RunEndStatus): Promise<void> {
    const run = this.requireRun('endRun');
    this.stopSystemMetrics();
    this.metrics.stop();
    await this.metrics.flush();
    run.meta.status = STATUS_CODE[status];
    run.meta.end_time = this.now();
    await writeMeta(run.dir, run.meta);
    this.run = undefined;
  }

  private requireRun(method: string): Run {
    if (!this.run) throw new BonsaiError(`tracker.${method} called with no open run; call startRun first`);
    return this.run;
  }
}
