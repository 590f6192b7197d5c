/**
 * A fake MLflow tracking server (node:http on 127.0.0.1, port 0) that enforces
 * specs/mlflow.md §1 exactly as a real server would refuse: log-batch limits and the 1 MB
 * body, the key pattern, immutable params, `{error_code, message}` bodies with the right
 * statuses, auth refusals, and proxied artifacts. Faults can be injected: answer 503 (or
 * any status) N times, stall, drop connections. It records every metric as it arrives, so
 * tests can see a duplicate that a real store would hide.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiError, applyLogBatch, applyUpdateRun, bad, checkKey, LIMITS } from './mlflow-rules.ts';

export interface FakeRun {
  info: { run_id: string; experiment_id: string; run_name: string; status: string; start_time: number; end_time?: number; artifact_uri: string; lifecycle_stage: string; user_id: string };
  params: Map<string, string>;
  tags: Map<string, string>;
  /** Every metric value received, in arrival order, duplicates included. */
  metrics: Array<{ key: string; value: number | string; timestamp: number; step: number }>;
  /** Statuses set through runs/update, in order (RUNNING at creation is not in it). */
  statusHistory?: string[];
}
interface Fault {
  kind: 'fail' | 'drop';
  left: number;
  status?: number;
  retryAfter?: string;
  match?: RegExp;
}
export interface FakeMlflowOptions {
  /** Require `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /** Require Basic auth with these credentials (else 401). */
  basic?: { user: string; password: string };
  /** Answer 403 PERMISSION_DENIED to every authenticated write. */
  forbidden?: boolean;
  port?: number;
  /** Serve HTTPS with this key and certificate (test/fakes/tls holds a self-signed pair for 127.0.0.1). */
  tls?: { key: Buffer; cert: Buffer };
}

/** The fake server; `await FakeMlflow.start()` then use `.url`. */
export class FakeMlflow {
  readonly experiments = new Map<string, { experiment_id: string; name: string; artifact_location: string; lifecycle_stage: string }>([
    ['0', { experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active' }],
  ]);
  readonly runs = new Map<string, FakeRun>();
  readonly artifacts = new Map<string, Buffer>();
  /** `METHOD path status` per request answered, for assertions. */
  readonly log: string[] = [];
  private faults: Fault[] = [];
  private stallUntil = 0;
  private stalled: Array<() => void> = [];
  private nextRun = 0;
  url = '';
  private constructor(private readonly server: Server, private readonly opts: FakeMlflowOptions) {}

  static async start(opts: FakeMlflowOptions = {}): Promise<FakeMlflow> {
    let fake!: FakeMlflow;
    const handler = (req: IncomingMessage, res: ServerResponse) => void fake.handle(req, res);
    const server = opts.tls ? createHttpsServer(opts.tls, handler) : createServer(handler);
    fake = new FakeMlflow(server, opts);
    await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
    fake.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The next `n` requests (matching `match`) are answered with `status` (503 by default). */
  failNext(n: number, status = 503, opts: { retryAfter?: string; match?: RegExp } = {}): void {
    this.faults.push({ kind: 'fail', left: n, status, ...opts });
  }
  /** The next `n` requests (matching `match`) have their connection destroyed, unanswered and unapplied. */
  dropNext(n: number, match?: RegExp): void {
    this.faults.push({ kind: 'drop', left: n, match });
  }
  /** Requests wait, unapplied, for `ms` (or until `unstall()`); a client that gave up is never applied. */
  stall(ms = Infinity): void {
    this.stallUntil = Date.now() + ms;
  }
  unstall(): void {
    this.stallUntil = 0;
    for (const go of this.stalled.splice(0)) go();
  }
  /** Requests held by a stall right now. */
  get stalledCount(): number {
    return this.stalled.length;
  }
  /** Requests ever held by a stall. */
  stalledTotal = 0;
  runByName(name: string): FakeRun | undefined {
    return [...this.runs.values()].find((r) => r.info.run_name === name);
  }

  async close(): Promise<void> {
    this.unstall();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const fault = this.faults.find((f) => f.left > 0 && (!f.match || f.match.test(req.url ?? '')));
    if (fault) {
      fault.left--;
      if (fault.kind === 'drop') return void req.socket.destroy();
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      return this.reply(req, res, fault.status!, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'injected fault' }, headers);
    }
    if (Date.now() < this.stallUntil) {
      this.stalledTotal++;
      await new Promise<void>((go) => {
        const done = () => (this.stalled = this.stalled.filter((g) => g !== done), go());
        this.stalled.push(done);
        if (Number.isFinite(this.stallUntil)) setTimeout(done, this.stallUntil - Date.now());
      });
      if (req.socket.destroyed) return; // the client gave up: never apply what it will resend
    }
    try {
      this.authorize(req);
      const answer = this.route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://x'), body);
      if (Buffer.isBuffer(answer)) return void (this.log.push(`${req.method} ${req.url} 200`), res.writeHead(200).end(answer));
      this.reply(req, res, 200, answer);
    } catch (e) {
      if (!(e instanceof ApiError)) return this.reply(req, res, 500, { error_code: 'INTERNAL_ERROR', message: String(e) });
      this.reply(req, res, e.status, { error_code: e.code, message: e.message });
    }
  }

  private reply(req: IncomingMessage, res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
    this.log.push(`${req.method} ${req.url?.split('?')[0]} ${status}`);
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
  }

  private authorize(req: IncomingMessage): void {
    const auth = req.headers.authorization ?? '';
    const { token, basic, forbidden } = this.opts;
    if (token && auth !== `Bearer ${token}`) throw new ApiError(401, 'UNAUTHENTICATED', 'You are not authenticated.');
    if (basic && auth !== `Basic ${Buffer.from(`${basic.user}:${basic.password}`).toString('base64')}`) {
      throw new ApiError(401, 'UNAUTHENTICATED', 'You are not authenticated. Please provide valid credentials.');
    }
    if (forbidden && req.method !== 'GET') throw new ApiError(403, 'PERMISSION_DENIED', 'Permission denied');
  }

  private route(method: string, url: URL, body: Buffer): unknown {
    const art = /^\/api\/2\.0\/mlflow-artifacts\/artifacts\/(.+)$/.exec(url.pathname);
    if (art) {
      const path = decodeURIComponent(art[1]!);
      if (method === 'PUT') return (this.artifacts.set(path, body), {});
      if (method === 'GET' && this.artifacts.has(path)) return this.artifacts.get(path)!;
      throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `artifact ${path} not found`);
    }
    const m = /^\/api\/2\.0\/mlflow\/(.+)$/.exec(url.pathname);
    const endpoint = `${method} ${m?.[1] ?? ''}`;
    if (body.length > LIMITS.bytes && endpoint === 'POST runs/log-batch') throw bad(`Batched logging API requests must be at most ${LIMITS.bytes} bytes, got a request of size ${body.length}.`);
    let q: Record<string, any> = Object.fromEntries(url.searchParams);
    if (method === 'POST') {
      try {
        q = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        throw new ApiError(400, 'BAD_REQUEST', 'malformed JSON');
      }
    }
    switch (endpoint) {
      case 'GET experiments/get-by-name': {
        const e = [...this.experiments.values()].find((x) => x.name === q.experiment_name);
        if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${q.experiment_name}'`);
        return { experiment: e };
      }
      case 'POST experiments/create': {
        if (typeof q.name !== 'string' || !q.name) throw bad("Missing value for required parameter 'name'.");
        if ([...this.experiments.values()].some((x) => x.name === q.name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Experiment '${q.name}' already exists.`);
        const id = String(this.experiments.size);
        this.experiments.set(id, { experiment_id: id, name: q.name, artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: 'active' });
        return { experiment_id: id };
      }
      case 'POST runs/create': {
        if (!this.experiments.has(String(q.experiment_id))) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${q.experiment_id} exists`);
        const id = (++this.nextRun).toString(16).padStart(32, '0');
        const tags = new Map<string, string>();
        for (const t of q.tags ?? []) tags.set(checkKey(t.key), String(t.value));
        const run: FakeRun = {
          info: { run_id: id, experiment_id: String(q.experiment_id), run_name: q.run_name ?? tags.get('mlflow.runName') ?? '', status: 'RUNNING', start_time: q.start_time ?? Date.now(), artifact_uri: `mlflow-artifacts:/${q.experiment_id}/${id}/artifacts`, lifecycle_stage: 'active', user_id: tags.get('mlflow.user') ?? '' },
          params: new Map(), tags, metrics: [],
        };
        this.runs.set(id, run);
        return { run: this.view(run) };
      }
      case 'POST runs/update': {
        const run = this.run(q.run_id);
        applyUpdateRun(run, q);
        return { run_info: run.info };
      }
      case 'GET runs/get':
        return { run: this.view(this.run(q.run_id)) };
      case 'POST runs/log-batch':
        return (applyLogBatch(this.run(q.run_id), q), {});
      case 'POST experiments/search': {
        // MLflow pages every search; a small max_results here exercises the client's paging.
        const active = [...this.experiments.values()].filter((e) => q.view_type === 'ALL' || e.lifecycle_stage === 'active');
        return paged(active, q, 'experiments');
      }
      case 'POST runs/search': {
        if (!Array.isArray(q.experiment_ids)) throw bad("Missing value for required parameter 'experiment_ids'.");
        const ids = new Set(q.experiment_ids.map(String));
        const runs = [...this.runs.values()].filter((r) => ids.has(r.info.experiment_id)).sort((a, b) => b.info.start_time - a.info.start_time);
        return paged(runs.map((r) => this.view(r)), q, 'runs');
      }
      case 'GET metrics/get-history':
        return { metrics: this.run(q.run_id).metrics.filter((x) => x.key === q.metric_key) };
      default:
        throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API endpoint for ${endpoint}`);
    }
  }

  private run(id: unknown): FakeRun {
    const run = this.runs.get(String(id));
    if (!run) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run '${id}' not found.`);
    return run;
  }

  private view(r: FakeRun) {
    const latest = new Map<string, FakeRun['metrics'][number]>();
    for (const x of r.metrics) latest.set(x.key, x);
    const kv = (m: Map<string, string>) => [...m].map(([key, value]) => ({ key, value }));
    return { info: r.info, data: { metrics: [...latest.values()], params: kv(r.params), tags: kv(r.tags) }, inputs: {} };
  }
}

/** One page of a search answer: `max_results` items from `page_token` (an offset, opaque to clients). */
function paged<T>(items: T[], q: Record<string, any>, field: string): Record<string, unknown> {
  const max = q.max_results === undefined ? 1000 : Number(q.max_results);
  if (!Number.isInteger(max) || max < 1 || max > 50_000) throw bad(`Invalid value ${q.max_results} for parameter 'max_results' supplied.`);
  const from = q.page_token ? Number(q.page_token) : 0;
  if (!Number.isInteger(from) || from < 0) throw bad(`Invalid page token ${JSON.stringify(q.page_token)}`);
  const page = items.slice(from, from + max);
  return { [field]: page, ...(from + max < items.length ? { next_page_token: String(from + max) } : {}) };
}
