import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { RunRecord, StartRecord, TrackEvent } from './events.ts';
import { checkArtifactPath, isNewParam, sanitizeKeyWarnOnce, truncateValue } from './keys.ts';
import { apiMetricValue, MlflowHttpError, MlflowRestClient } from './rest-client.ts';
import { defaultRunTags } from './run-tags.ts';
import { BackgroundSender } from './sender.ts';
import { createServerRun, keepForLater, resumeServerRun } from './shipper.ts';
import { SYSTEM_METRICS_MS, startSystemMetrics } from './system-metrics.ts';
import { RunNotResumable, type ResumedRun, type RunEndStatus, type StartedRun, type StartRunOptions, type Tracker } from './types.ts';

export interface RestTrackerOptions {
  /** Where MLFLOW_* settings are read (auth, TLS, retries); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Events held in memory before they go to the spool file (default 10 000). */
  queueLimit?: number;
  /** How long `endRun` waits for the server before leaving events in the spool (default 10 s). */
  drainTimeoutMs?: number;
  /** How often an unreachable server is tried again (default 5 s). */
  retryIntervalMs?: number;
  /** How often `system/` metrics are sampled (default 10 s; 0: never). */
  systemMetricsMs?: number;
  /** Where warnings go (default console.warn). Never given credentials. */
  warn?: (line: string) => void;
}

/**
 * Logs a run to an MLflow tracking server without ever making training wait on it.
 * `logMetrics` only appends to a bounded in-memory queue; one background sender drains it.
 * When the server cannot be reached (or the queue is full) events go to an append-only
 * spool file in the run's folder and are replayed, each once, when the server answers;
 * what is still pending at the end is left there for `bonsai runs push`.
 */
export class RestMlflowTracker implements Tracker {
  readonly client: MlflowRestClient;
  private readonly o: Required<Omit<RestTrackerOptions, 'env'>>;
  private readonly localId = randomUUID().replace(/-/g, '');
  private seq = 0;
  private start?: StartRecord;
  private sender?: BackgroundSender;
  private readonly params = new Map<string, string>();
  private readonly metricKeys = new Map<string, string>();
  private stopSystemMetrics = () => {};

  constructor(readonly uri: string, opts: RestTrackerOptions = {}) {
    this.client = new MlflowRestClient(uri, opts.env ?? process.env);
    this.o = {
      queueLimit: opts.queueLimit ?? 10_000,
      drainTimeoutMs: opts.drainTimeoutMs ?? 10_000,
      retryIntervalMs: opts.retryIntervalMs ?? 5_000,
      systemMetricsMs: opts.systemMetricsMs ?? SYSTEM_METRICS_MS,
      warn: opts.warn ?? ((line) => console.warn(line)),
    };
  }

  /** The server's run id, once the run exists there. */
  get serverRunId(): string | undefined {
    return this.sender?.delivery.run?.runId;
  }
  /** The spool file (it exists only once something had to be spooled). */
  get spoolPath(): string | undefined {
    return this.sender?.spool.path;
  }

  /**
   * Creates the run. Refused credentials (401/403) or a refused request are a BonsaiError
   * here, before training starts; an unreachable server is a warning and the run goes on,
   * spooling, and is created when the server answers.
   */
  async startRun(opts: StartRunOptions): Promise<StartedRun> {
    const sender = this.prepare(opts, defaultRunTags(opts));
    const run = await this.connect(sender, (o) => createServerRun(this.client, this.start!, o));
    return { runId: run?.runId ?? this.localId, experimentId: run?.experimentId ?? '' };
  }

  /**
   * Continues server run `runId` (runs/update RUNNING) and sets only `opts.tags` (and the
   * parent) on it. RunNotResumable when the server has no such active run in the recipe's
   * experiment; the tracker is then free for `startRun`. An unreachable server is trusted
   * to still hold the run: the spool records the resume, and the run is continued (or, if
   * gone by then, created) when the server answers, here or by `bonsai runs push`.
   */
  async resumeRun(runId: string, opts: StartRunOptions): Promise<ResumedRun> {
    const sender = this.prepare(opts, {}, runId);
    let found: Awaited<ReturnType<typeof resumeServerRun>> | undefined;
    await this.connect(sender, async (o) => (found = await resumeServerRun(this.client, this.start!, o)).run);
    // Known params make logParams skip equal values and refuse changed ones here, as startRun's do.
    for (const [k, v] of Object.entries(found?.params ?? {})) this.params.set(k, v);
    await this.setTags({ ...(opts.parentRunId ? { 'mlflow.parentRunId': opts.parentRunId } : {}), ...opts.tags });
    return { runId, experimentId: found?.run.experimentId ?? '', params: found?.params ?? {}, tags: found?.tags ?? {} };
  }

  /** The start record and the background sender for a run about to open. */
  private prepare(opts: StartRunOptions, rawTags: Record<string, string>, resumeRunId?: string): BackgroundSender {
    if (this.start) throw new BonsaiError('a run is already open on this tracker; call endRun first');
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(rawTags)) tags[sanitizeKeyWarnOnce(k, 'tag')] = truncateValue(String(v), 5000);
    this.start = { kind: 'start', experiment: opts.experiment, runName: opts.runName, startTime: Date.now(), tags, url: this.client.display, ...(resumeRunId ? { resumeRunId } : {}) };
    const dir = opts.outDir ?? join(tmpdir(), 'bonsai-spool');
    return new BackgroundSender(this.client, this.start, join(dir, `tracking-spool-${this.localId.slice(0, 8)}.jsonl`), this.o);
  }

  /** Runs `open` against the server, failing fast; unreachable: the sender goes on offline. */
  private async connect(sender: BackgroundSender, open: (o: { maxRetries: number; timeoutMs: number }) => Promise<RunRecord>): Promise<RunRecord | undefined> {
    try {
      // Fail fast at start: a dead server must not hold training up for a minute of retries.
      const timeoutMs = Math.min(this.client.http.policy.timeoutMs, 10_000);
      sender.delivery.run = await open({ maxRetries: 0, timeoutMs });
    } catch (e) {
      this.start = undefined;
      if (e instanceof RunNotResumable) throw e; // the caller opens a new run on this same client
      if (!keepForLater(e) || (e instanceof MlflowHttpError && (e.status === 401 || e.status === 403))) {
        this.client.close();
        throw e;
      }
      this.start = sender.start;
      await sender.startOffline((e as Error).message);
    }
    this.sender = sender;
    this.stopSystemMetrics = startSystemMetrics((step, values) => this.logMetrics(step, values), this.o.systemMetricsMs);
    return sender.delivery.run;
  }

  async logParams(params: Record<string, string>): Promise<void> {
    const out: Record<string, string> = {};
    for (const [rawKey, rawValue] of Object.entries(params)) {
      const key = sanitizeKeyWarnOnce(rawKey, 'param');
      const value = truncateValue(String(rawValue));
      // Checked here, as the local store does, so the caller hears of it (the server would say so only in the background).
      if (!isNewParam(key, this.params.get(key), value)) continue;
      this.params.set(key, value);
      out[key] = value;
    }
    if (Object.keys(out).length) this.enqueue({ id: this.nextId(), kind: 'params', params: out });
  }

  logMetrics(step: number, record: Record<string, number>, timestampMs?: number): void {
    try {
      const values: Record<string, number | string> = {};
      for (const rawKey in record) {
        const v = record[rawKey];
        if (typeof v !== 'number') continue;
        let key = this.metricKeys.get(rawKey);
        if (key === undefined) this.metricKeys.set(rawKey, (key = sanitizeKeyWarnOnce(rawKey, 'metric')));
        values[key] = apiMetricValue(v);
      }
      if (Object.keys(values).length === 0) return;
      const timestamp = Math.max(0, Math.round(timestampMs ?? Date.now()));
      this.enqueue({ id: this.nextId(), kind: 'metrics', step: Number.isFinite(step) ? Math.trunc(step) : 0, timestamp, values });
    } catch {
      // Never throw on the hot path.
    }
  }

  async setTags(tags: Record<string, string>): Promise<void> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(tags)) out[sanitizeKeyWarnOnce(k, 'tag')] = truncateValue(String(v), 5000);
    this.enqueue({ id: this.nextId(), kind: 'tags', tags: out });
  }

  /** Queued like everything else; the file is read when it is sent, so it must stay in place. */
  async logArtifact(localPath: string, artifactPath?: string): Promise<void> {
    checkArtifactPath(artifactPath);
    this.enqueue({ id: this.nextId(), kind: 'artifact', localPath: resolve(localPath), artifactPath });
  }

  /** Waits (up to the drain timeout) until everything logged so far is delivered. */
  async flush(): Promise<void> {
    await this.sender?.drain(this.o.drainTimeoutMs);
  }

  async endRun(status: RunEndStatus): Promise<void> {
    if (!this.start) throw new BonsaiError('tracker.endRun called with no open run; call startRun first');
    this.stopSystemMetrics();
    this.enqueue({ id: this.nextId(), kind: 'end', status, endTime: Date.now() });
    await this.sender!.close(this.o.drainTimeoutMs);
  }

  pendingNote(): string | undefined {
    const s = this.sender;
    if (!s) return undefined;
    const lines: string[] = [];
    if (s.pending > 0) lines.push(`${s.pending} tracking events pending in ${s.spool.path}; send with \`bonsai runs push ${dirname(s.spool.path)} --to ${this.client.display}\``);
    if (s.delivery.refused > 0) lines.push(`${s.delivery.refused} tracking events were refused by ${this.client.display} (see the warnings above)`);
    return lines.length ? lines.join('\n') : undefined;
  }

  private nextId(): string {
    return `${this.localId.slice(0, 8)}-${++this.seq}`;
  }

  private enqueue(e: TrackEvent): void {
    this.sender?.enqueue(e);
  }
}
