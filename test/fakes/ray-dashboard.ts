/**
 * A fake Ray dashboard (node:http on 127.0.0.1, port 0) that answers the Jobs API as
 * specs/ray-jobs.md records it from Ray's sources: routes with Ray's trailing slash
 * (`POST /api/jobs` without it is aiohttp's plain `404: Not Found`, as no route matches),
 * plain-text errors, 401 without a token and 403 with a wrong one, packages that 404
 * until PUT, DELETE only for terminal jobs, and a WebSocket log tail that closes when
 * the job's logs end. Jobs either follow a script (PENDING → RUNNING → final state) or
 * really run: the package is unpacked with unzip into a temp dir, the repo's node_modules
 * linked in, and the entrypoint run through a shell as Ray's supervisor does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';

const REPO = join(import.meta.dirname, '..', '..');
const TERMINAL = new Set(['STOPPED', 'SUCCEEDED', 'FAILED']);

export interface FakeJob {
  info: Record<string, unknown> & { submission_id: string; status: string; entrypoint: string; runtime_env: Record<string, unknown> };
  logs: string;
  /** Every status the job has had, in order. */
  history: string[];
  tails: Set<WebSocket>;
  child?: ChildProcess;
  /** Where a really-run job's package was unpacked. */
  dir?: string;
}

export interface FakeRayOptions {
  /** Require `Authorization: Bearer <token>`: 401 without one, 403 with another. */
  token?: string;
  /** 'script' (default): jobs go PENDING → RUNNING → `final` printing `scriptLogs`; 'run': unpack and run the entrypoint. */
  mode?: 'script' | 'run';
  final?: 'SUCCEEDED' | 'FAILED';
  scriptLogs?: string[];
  /** How long a job stays PENDING (default 50 ms). */
  pendingMs?: number;
  /** Keep scripted jobs RUNNING until stopped. */
  hold?: boolean;
}

class HttpError extends Error {
  constructor(readonly status: number, text: string) {
    super(text);
  }
}

export class FakeRayDashboard {
  readonly jobs = new Map<string, FakeJob>();
  readonly packages = new Map<string, Buffer>();
  /** `METHOD path status` per answered request (WebSocket upgrades as `WS path status`). */
  readonly log: string[] = [];
  url = '';
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly temps: string[] = [];
  private next = 0;
  private constructor(private readonly server: Server, readonly opts: FakeRayOptions) {}

  static async start(opts: FakeRayOptions = {}): Promise<FakeRayDashboard> {
    let fake!: FakeRayDashboard;
    const server = createServer((req, res) => void fake.handle(req, res));
    fake = new FakeRayDashboard(server, opts);
    server.on('upgrade', (req, socket, head) => fake.upgrade(req, socket as Socket, head));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    for (const job of this.jobs.values()) job.child?.kill('SIGKILL');
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
    for (const d of this.temps) rmSync(d, { recursive: true, force: true });
  }

  /** Resolves when the job reaches a terminal state. */
  async waitFor(id: string, timeoutMs = 120_000): Promise<FakeJob> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const job = this.jobs.get(id);
      if (job && TERMINAL.has(job.info.status)) return job;
      if (Date.now() > until) throw new Error(`job ${id} still ${job?.info.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      this.authorize(req);
      const answer = this.route(req.method ?? 'GET', path, Buffer.concat(chunks));
      this.log.push(`${req.method} ${path} 200`);
      if (typeof answer === 'string') res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(500, `Traceback (most recent call last):\n  ...\n${String(e)}`);
      this.log.push(`${req.method} ${path} ${err.status}`);
      res.writeHead(err.status, { 'content-type': 'text/plain; charset=utf-8' }).end(err.message);
    }
  }

  private authorize(req: IncomingMessage): void {
    if (!this.opts.token) return;
    const auth = req.headers.authorization;
    if (!auth) throw new HttpError(401, 'Unauthorized: Missing authentication token');
    if (auth !== `Bearer ${this.opts.token}`) throw new HttpError(403, 'Forbidden: Invalid authentication token');
  }

  private route(method: string, path: string, body: Buffer): unknown {
    if (method === 'GET' && path === '/api/version') {
      return { version: '4', ray_version: '2.52.0', ray_commit: 'fake', session_name: 'session_fake' };
    }
    const pkg = /^\/api\/packages\/([^/]+)\/([^/]+)$/.exec(path);
    if (pkg) return this.packageRoute(method, pkg[1]!, decodeURIComponent(pkg[2]!), body);
    if (path === '/api/jobs/') {
      if (method === 'POST') return this.submit(body);
      if (method === 'GET') return [...this.jobs.values()].map((j) => j.info);
      throw new HttpError(405, '405: Method Not Allowed');
    }
    const m = /^\/api\/jobs\/([^/]+)(\/logs|\/stop)?$/.exec(path);
    if (!m) throw new HttpError(404, '404: Not Found'); // aiohttp's answer when no route matches (e.g. POST /api/jobs)
    const id = decodeURIComponent(m[1]!);
    const job = this.jobs.get(id);
    const route = `${method} ${m[2] ?? ''}`;
    if (!['GET ', 'DELETE ', 'GET /logs', 'POST /stop'].includes(route)) throw new HttpError(405, '405: Method Not Allowed');
    if (!job) throw new HttpError(404, `Job ${id} does not exist`);
    if (route === 'GET ') return job.info;
    if (route === 'GET /logs') return { logs: job.logs };
    if (route === 'POST /stop') return { stopped: this.stop(job) };
    if (!TERMINAL.has(job.info.status)) {
      throw new HttpError(400, `Attempted to delete job with submission_id ${id}, but this job is not in a terminal state. Please stop the job first.`);
    }
    this.jobs.delete(id);
    return { deleted: true };
  }

  private packageRoute(method: string, protocol: string, name: string, body: Buffer): unknown {
    if (protocol !== 'gcs') throw new HttpError(400, `Unsupported protocol ${protocol}`);
    if (!/^_ray_pkg_[0-9a-f]+\.zip$/.test(name)) throw new HttpError(400, `Invalid package name ${name}`);
    const uri = `gcs://${name}`;
    if (method === 'GET') {
      if (!this.packages.has(uri)) throw new HttpError(404, `Package URI ${uri} does not exist`);
      return 'Package exists';
    }
    if (method === 'PUT') {
      if (body.length === 0) throw new HttpError(400, 'Package body is empty');
      this.packages.set(uri, body);
      return '';
    }
    throw new HttpError(405, '405: Method Not Allowed');
  }

  private submit(body: Buffer): unknown {
    let req: Record<string, unknown>;
    try {
      req = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'Traceback (most recent call last):\n  ...\njson.decoder.JSONDecodeError: Expecting value');
    }
    if (typeof req.entrypoint !== 'string' || !req.entrypoint) throw new HttpError(400, 'TypeError: JobSubmitRequest: entrypoint must be a string');
    const meta = (req.metadata ?? {}) as Record<string, unknown>;
    if (Object.values(meta).some((v) => typeof v !== 'string')) throw new HttpError(400, 'TypeError: metadata must be a dict of str to str');
    for (const k of ['entrypoint_num_cpus', 'entrypoint_num_gpus', 'entrypoint_memory'] as const) {
      if (req[k] !== undefined && (typeof req[k] !== 'number' || (req[k] as number) < 0)) throw new HttpError(400, `TypeError: ${k} must be a non-negative number`);
    }
    const id = (req.submission_id as string | undefined) ?? `raysubmit_${(++this.next).toString().padStart(16, '0')}`;
    if (this.jobs.has(id)) throw new HttpError(400, `Job with submission_id ${id} already exists. Please use a different submission_id.`);
    const runtimeEnv = (req.runtime_env ?? {}) as Record<string, unknown>;
    const job: FakeJob = {
      info: { type: 'SUBMISSION', job_id: null, submission_id: id, status: 'PENDING', entrypoint: req.entrypoint, message: 'Job has not started yet.', error_type: null, start_time: Date.now(), end_time: null, metadata: meta as Record<string, string>, runtime_env: runtimeEnv, driver_exit_code: null, entrypoint_num_cpus: req.entrypoint_num_cpus, entrypoint_num_gpus: req.entrypoint_num_gpus, entrypoint_memory: req.entrypoint_memory },
      logs: '',
      history: ['PENDING'],
      tails: new Set(),
    };
    this.jobs.set(id, job);
    setTimeout(() => this.begin(job), this.opts.pendingMs ?? 50);
    return { submission_id: id, job_id: null };
  }

  private begin(job: FakeJob): void {
    const wd = job.info.runtime_env.working_dir as string | undefined;
    if (wd && !this.packages.has(wd)) return this.finish(job, 'FAILED', `Failed to set up runtime environment: package ${wd} not found`, 'RUNTIME_ENV_SETUP_FAILED');
    if (this.opts.mode === 'run') return this.run(job);
    this.setRunning(job);
    const lines = this.opts.scriptLogs ?? ['step 1\n', 'step 2\n', 'done\n'];
    lines.forEach((line, i) => setTimeout(() => job.info.status === 'RUNNING' && this.append(job, line), 30 * (i + 1)));
    if (!this.opts.hold) {
      setTimeout(() => {
        if (job.info.status !== 'RUNNING') return;
        const final = this.opts.final ?? 'SUCCEEDED';
        this.finish(job, final, final === 'SUCCEEDED' ? 'Job finished successfully.' : 'Job entrypoint command failed with exit code 1', final === 'FAILED' ? 'JOB_ENTRYPOINT_COMMAND_ERROR' : null);
      }, 30 * (lines.length + 1));
    }
  }

  /** Unpack the shipped package and run the entrypoint through a shell, as Ray's supervisor does. */
  private run(job: FakeJob): void {
    const dir = mkdtempSync(join(tmpdir(), 'fake-ray-job-'));
    this.temps.push(dir);
    job.dir = dir;
    const pkg = this.packages.get(job.info.runtime_env.working_dir as string);
    if (pkg) {
      const zip = join(dir, '..', `${job.info.submission_id}.zip`);
      writeFileSync(zip, pkg);
      this.temps.push(zip);
      const unzip = spawnSync('unzip', ['-q', zip, '-d', dir], { encoding: 'utf8' });
      if (unzip.status !== 0) return this.finish(job, 'FAILED', `Failed to unpack the working_dir: ${unzip.stderr}`, 'RUNTIME_ENV_SETUP_FAILED');
    }
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    const env = { ...process.env, ...(job.info.runtime_env.env_vars as Record<string, string> | undefined) };
    const child = spawn('/bin/sh', ['-c', job.info.entrypoint], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    job.child = child;
    this.setRunning(job);
    child.stdout!.on('data', (c: Buffer) => this.append(job, c.toString()));
    child.stderr!.on('data', (c: Buffer) => this.append(job, c.toString()));
    child.on('close', (code) => {
      if (job.info.status !== 'RUNNING') return;
      job.info.driver_exit_code = code;
      if (code === 0) this.finish(job, 'SUCCEEDED', 'Job finished successfully.', null);
      else this.finish(job, 'FAILED', `Job entrypoint command failed with exit code ${code}, last available logs (truncated to 20,000 chars):\n${job.logs.slice(-20_000)}`, 'JOB_ENTRYPOINT_COMMAND_ERROR');
    });
  }

  private setRunning(job: FakeJob): void {
    Object.assign(job.info, { status: 'RUNNING', message: 'Job is currently running.' });
    job.history.push('RUNNING');
  }

  private stop(job: FakeJob): boolean {
    if (TERMINAL.has(job.info.status)) return false;
    if (job.child?.pid) process.kill(-job.child.pid, 'SIGTERM'); // the shell and what it started
    this.finish(job, 'STOPPED', 'Job was intentionally stopped.', null);
    return true;
  }

  private append(job: FakeJob, text: string): void {
    job.logs += text;
    for (const ws of job.tails) ws.send(text);
  }

  private finish(job: FakeJob, status: string, message: string, errorType: string | null): void {
    Object.assign(job.info, { status, message, error_type: errorType, end_time: Date.now() });
    job.history.push(status);
    // The tail closes once the logs have ended; a short grace lets the last output arrive.
    setTimeout(() => {
      for (const ws of job.tails) ws.close(1000);
      job.tails.clear();
    }, 50);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const refuse = (status: number, text: string) => {
      this.log.push(`WS ${path} ${status}`);
      socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    };
    try {
      this.authorize(req);
    } catch (e) {
      return refuse((e as HttpError).status, (e as HttpError).message);
    }
    const m = /^\/api\/jobs\/([^/]+)\/logs\/tail$/.exec(path);
    if (!m) return refuse(404, '404: Not Found');
    const job = this.jobs.get(decodeURIComponent(m[1]!));
    if (!job) return refuse(404, `Job ${m[1]} does not exist`);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.log.push(`WS ${path} 101`);
      if (job.logs) ws.send(job.logs); // what was written before the tail opened comes first
      if (TERMINAL.has(job.info.status)) return ws.close(1000);
      job.tails.add(ws);
    });
  }
}
