import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { RunRecord, StartRecord, TrackEvent } from './events.ts';
import { sanitizeKeyWarnOnce, truncateValue } from './keys.ts';
import { apiMetricValue, MlflowHttpError, MlflowRestClient } from './rest-client.ts';
import { defaultRunTags } from './run-tags.ts';
import { createServerRun, keepForLater, ship } from './shipper.ts';
import { Spool } from './spool.ts';
import { SYSTEM_METRICS_MS, startSystemMetrics } from './system-metrics.ts';
import type { RunEndStatus, StartedRun, StartRunOptions, Tracker } from './types.ts';

export interface RestTrackerOptions {
  /** Where MLFLOW_* settings are read (auth, TLS, retries); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Events held in memory before they go to the spool file (default 10 000). */
  queueLimit?: number;
  /** How long `endRun` waits for the server before leaving events in the spool (default 30 s). */
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
  private run?: RunRecord;
  private spool?: Spool;
  private queue: TrackEvent[] = [];
  private sending?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private warnedOffline = false;
  private rejected = 0;
  private readonly params = new Map<string, string>();
  private readonly metricKeys = new Map<string, string>();
  private stopSystemMetrics = () => {};

  constructor(readonly uri: string, opts: RestTrackerOptions = {}) {
    this.client = new MlflowRestClient(uri, opts.env ?? process.env);
    this.o = {
      queueLimit: opts.queueLimit ?? 10_000,
      drainTimeoutMs: opts.drainTimeoutMs ?? 30_000,
      retryIntervalMs: opts.retryIntervalMs ?? 5_000,
      systemMetricsMs: opts.systemMetricsMs ?? SYSTEM_METRICS_MS,
      warn: opts.warn ?? ((line) => console.warn(line)),
    };
  }

  /** The server's run id, once the run exists there. */
  get serverRunId(): string | undefined {
    return this.run?.runId;
  }
  /** The spool file (it exists only once something had to be spooled). */
  get spoolPath(): string | undefined {
    return this.spool?.path;
  }

  /**
   * Creates the run. Refused credentials (401/403) or a refused request are a BonsaiError
   * here, before training starts; an unreachable server is a warning and the run goes on,
   * spooling, and is created when the server answers.
   */
  async startRun(opts: StartRunOptions): Promise<StartedRun> {
    if (this.start) throw new BonsaiError('a run is already open on this tracker; call endRun first');
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(defaultRunTags(opts))) tags[sanitizeKeyWarnOnce(k, 'tag')] = truncateValue(String(v), 5000);
    this.start = { kind: 'start', experiment: opts.experiment, runName: opts.runName, startTime: Date.now(), tags, url: this.client.display };
    const dir = opts.outDir ?? join(tmpdir(), 'bonsai-spool');
    this.spool = new Spool(join(dir, `tracking-spool-${this.localId.slice(0, 8)}.jsonl`), () => [this.start!, ...(this.run ? [this.run] : [])]);
    try {
      // Fail fast at start: a dead server must not hold training up for a minute of retries.
      const timeoutMs = Math.min(this.client.http.policy.timeoutMs, 10_000);
      this.run = await createServerRun(this.client, this.start, { maxRetries: 0, timeoutMs });
    } catch (e) {
      if (!keepForLater(e) || (e instanceof MlflowHttpError && (e.status === 401 || e.status === 403))) {
        this.start = undefined;
        this.client.close();
        throw e;
      }
      this.o.warn(`bonsai: tracking server ${this.client.display} unreachable (${(e as Error).message}); training goes on, events are kept in ${this.spool.path} and sent when it answers`);
      this.warnedOffline = true;
      await this.spool.append([]); // the start record on disk: a crash now still leaves a pushable spool
      this.scheduleRetry();
    }
    this.stopSystemMetrics = startSystemMetrics((step, values) => this.logMetrics(step, values), this.o.systemMetricsMs);
    return { runId: this.run?.runId ?? this.localId, experimentId: this.run?.experimentId ?? '' };
  }

  async logParams(params: Record<string, string>): Promise<void> {
    const out: Record<string, string> = {};
    for (const [rawKey, rawValue] of Object.entries(params)) {
      const key = sanitizeKeyWarnOnce(rawKey, 'param');
      const value = truncateValue(String(rawValue));
      const old = this.params.get(key);
      if (old === value) continue;
      // Checked here, as the local store does, so the caller hears of it (the server would say so only in the background).
      if (old !== undefined) {
        throw new BonsaiError(`param ${JSON.stringify(key)} was already logged as ${JSON.stringify(old)}; it cannot change to ${JSON.stringify(value)}`, {
          hint: 'MLflow params are immutable within a run: log a changing value as a metric or tag',
        });
      }
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
    if (artifactPath && (artifactPath.startsWith('/') || artifactPath.split(/[/\\]/).includes('..'))) {
      throw new BonsaiError(`artifact path ${JSON.stringify(artifactPath)} must be relative and stay inside the run's artifacts`);
    }
    this.enqueue({ id: this.nextId(), kind: 'artifact', localPath: resolve(localPath), artifactPath });
  }

  /** Waits (up to the drain timeout) until everything logged so far is delivered. */
  async flush(): Promise<void> {
    await this.drain(this.o.drainTimeoutMs);
  }

  async endRun(status: RunEndStatus): Promise<void> {
    if (!this.start) throw new BonsaiError('tracker.endRun called with no open run; call startRun first');
    this.stopSystemMetrics();
    this.enqueue({ id: this.nextId(), kind: 'end', status, endTime: Date.now() });
    const drained = await this.drain(this.o.drainTimeoutMs);
    this.stopped = true;
    clearTimeout(this.retryTimer);
    // Closing aborts a request still in flight; its events come back to the queue, then the spool.
    this.client.close();
    await this.sending;
    if (!drained) await this.spill().catch((e: unknown) => this.o.warn(`bonsai: could not write the tracking spool: ${(e as Error).message}`));
  }

  pendingNote(): string | undefined {
    const n = (this.spool?.unacked ?? 0) + this.queue.length;
    const lines: string[] = [];
    if (n > 0) lines.push(`${n} tracking events pending in ${this.spool!.path}; send with \`bonsai runs push ${dirname(this.spool!.path)} --to ${this.client.display}\``);
    if (this.rejected > 0) lines.push(`${this.rejected} tracking events were refused by ${this.client.display} (see the warnings above)`);
    return lines.length ? lines.join('\n') : undefined;
  }

  private nextId(): string {
    return `${this.localId.slice(0, 8)}-${++this.seq}`;
  }

  private enqueue(e: TrackEvent): void {
    if (this.stopped || !this.start) return;
    this.queue.push(e);
    // Bounded memory: past the limit, events wait on disk instead.
    if (this.queue.length > this.o.queueLimit) void this.spill().catch(() => {});
    if (!this.retryTimer) this.kick();
  }

  private kick(): void {
    if (this.sending || this.stopped) return;
    this.sending = this.send().finally(() => {
      this.sending = undefined;
      if (!this.retryTimer && (this.queue.length || this.spool!.unacked) && !this.stopped) this.kick();
    });
  }

  /** The background sender: create the run if needed, replay the spool, then the queue. */
  private async send(): Promise<void> {
    const spool = this.spool!;
    try {
      if (!this.run) {
        this.run = await createServerRun(this.client, this.start!);
        await spool.noteRun(this.run);
      }
      while (spool.unacked > 0 && !this.stopped) {
        const pending = (await spool.read()).pending.filter((e) => spool.has(e.id));
        if (!pending.length) break; // ids whose lines never reached the disk: nothing to send
        await ship(this.client, this.run, pending, (ids, why) => this.done(ids, why));
      }
      while (this.queue.length && !this.stopped) {
        const batch = this.queue;
        this.queue = [];
        const sent = new Set<string>();
        try {
          await ship(this.client, this.run, batch, (ids, why) => {
            for (const id of ids) sent.add(id);
            return this.done(ids, why);
          });
        } catch (e) {
          // Undelivered events go back ahead of newer ones; spill() moves them to disk below.
          this.queue = [...batch.filter((ev) => !sent.has(ev.id) && !spool.has(ev.id)), ...this.queue];
          throw e;
        }
      }
      if (this.warnedOffline && spool.unacked === 0) this.o.warn(`bonsai: tracking server ${this.client.display} answers again; spooled events sent`);
      this.warnedOffline = false;
    } catch (e) {
      if (!keepForLater(e)) this.o.warn(`bonsai: tracking: ${(e as Error).message}`);
      if (!this.warnedOffline) this.o.warn(`bonsai: tracking server ${this.client.display} unreachable (${(e as Error).message}); events are kept in ${spool.path} and sent when it answers`);
      this.warnedOffline = true;
      await this.spill().catch(() => {});
      this.scheduleRetry();
    }
  }

  private async done(ids: string[], rejected?: string): Promise<void> {
    if (rejected) {
      this.rejected += ids.length;
      this.o.warn(`bonsai: tracking server refused ${ids.length} event(s): ${rejected}`);
    }
    await this.spool!.ack(ids, rejected);
  }

  /** Moves the in-memory queue to the spool file. */
  private spill(): Promise<void> {
    const events = this.queue;
    this.queue = [];
    return this.spool!.append(events);
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.o.retryIntervalMs);
    this.retryTimer.unref();
  }

  /** Resolves true once nothing is queued, in flight or spooled; false at the deadline. */
  private async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.sending && !this.queue.length && !(this.spool?.unacked ?? 0)) return true;
      if (Date.now() >= deadline) return false;
      if (!this.sending && this.retryTimer) {
        // Waiting out the retry interval would only waste the drain time: try now.
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.kick();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
