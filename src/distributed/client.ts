/**
 * A small client for the Ray Jobs REST API of the dashboard (default port 8265), written
 * from Ray's sources (specs/ray-jobs.md): no TypeScript Ray client exists. Every failure
 * becomes a BonsaiError naming the request; Ray's own error text (plain text, often a
 * Python traceback) is shown as Ray wrote it.
 */
import { BonsaiError } from '../errors.ts';
import { resolveRayToken } from './auth.ts';
import { refusal, unreachable } from './http-errors.ts';
import { tailJobLogs } from './logs-tail.ts';

/** Job states; the last three are terminal. */
export type RayJobStatus = 'PENDING' | 'RUNNING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED';
export const TERMINAL_STATUSES: readonly RayJobStatus[] = ['STOPPED', 'SUCCEEDED', 'FAILED'];

/** What `GET /api/jobs/{id}` answers (the fields bonsai reads; Ray sends more). */
export interface RayJobInfo {
  type?: string;
  job_id: string | null;
  submission_id: string | null;
  status: RayJobStatus;
  entrypoint: string;
  message?: string | null;
  error_type?: string | null;
  start_time?: number | null;
  end_time?: number | null;
  metadata?: Record<string, string> | null;
  runtime_env?: Record<string, unknown> | null;
  driver_exit_code?: number | null;
}

/** The body of `POST /api/jobs/`. */
export interface RayJobSubmission {
  entrypoint: string;
  submission_id?: string;
  runtime_env?: Record<string, unknown>;
  metadata?: Record<string, string>;
  entrypoint_num_cpus?: number;
  entrypoint_num_gpus?: number;
  entrypoint_memory?: number;
  entrypoint_resources?: Record<string, number>;
}

export interface RayClientOptions {
  /** Bearer token; default: RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, ~/.ray/auth_token. */
  token?: string;
  fetch?: typeof fetch;
  /** Per-request limit in ms (uploads get ten times as long). Default 30 s. */
  timeoutMs?: number;
}

/** `host:8265` or `http://host:8265/` to `http://host:8265`; refuses ray:// (the client port, not the dashboard). */
export function normalizeAddress(address: string): string {
  const a = address.trim().replace(/\/+$/, '');
  if (/^ray:\/\//i.test(a) || a === 'auto') {
    throw new BonsaiError(`"${address}" is a Ray client address; bonsai talks to the dashboard's Jobs API`, {
      hint: 'use the dashboard address, e.g. http://<head-node>:8265',
    });
  }
  return /^https?:\/\//i.test(a) ? a : `http://${a}`;
}

/** The Ray Jobs API of one cluster. */
export class RayJobsClient {
  readonly address: string;
  private readonly token: string | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(address: string, opts: RayClientOptions = {}) {
    this.address = normalizeAddress(address);
    this.token = opts.token ?? resolveRayToken();
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** `{version, ray_version, …}`; the first call, so an unreachable or non-Ray address fails here. */
  async version(): Promise<{ version: string; ray_version: string; ray_commit?: string; session_name?: string }> {
    const v = await this.json<{ version?: unknown; ray_version?: unknown }>('GET', '/api/version');
    if (typeof v.ray_version !== 'string' || typeof v.version !== 'string') {
      throw new BonsaiError(`${this.address}/api/version answered without a Ray version: ${JSON.stringify(v).slice(0, 200)}`, {
        hint: 'is this the Ray dashboard (http://<head>:8265)?',
      });
    }
    return v as { version: string; ray_version: string };
  }

  /** Whether `gcs://_ray_pkg_….zip` is already stored on the cluster. */
  async packageExists(uri: string): Promise<boolean> {
    const res = await this.request('GET', packagePath(uri), undefined, [404]);
    return res.status !== 404;
  }

  /** Stores a package under `uri` (raw zip bytes). */
  async uploadPackage(uri: string, zip: Uint8Array): Promise<void> {
    await this.request('PUT', packagePath(uri), zip, [], this.timeoutMs * 10);
  }

  async submit(job: RayJobSubmission): Promise<{ submission_id: string; job_id?: string | null }> {
    return this.json('POST', '/api/jobs/', job); // the trailing slash is part of Ray's route
  }

  async status(id: string): Promise<RayJobInfo> {
    return this.json('GET', jobPath(id));
  }

  async list(): Promise<RayJobInfo[]> {
    return this.json('GET', '/api/jobs/');
  }

  /** The job's whole log so far. */
  async logs(id: string): Promise<string> {
    return (await this.json<{ logs: string }>('GET', `${jobPath(id)}/logs`)).logs;
  }

  /**
   * Streams the job's log through the WebSocket tail, calling `onChunk` per frame; resolves
   * when Ray closes the socket (the job's logs have ended). Checks the job exists first,
   * so an unknown id is a clear error rather than a refused upgrade.
   */
  async followLogs(id: string, onChunk: (text: string) => void): Promise<void> {
    await this.status(id);
    const url = `${this.address.replace(/^http/i, 'ws')}${jobPath(id)}/logs/tail`;
    await tailJobLogs(url, this.headers(), onChunk);
  }

  async stop(id: string): Promise<boolean> {
    return (await this.json<{ stopped: boolean }>('POST', `${jobPath(id)}/stop`)).stopped;
  }

  /** Deletes a terminal job's record (Ray refuses jobs still pending or running). */
  async delete(id: string): Promise<boolean> {
    return (await this.json<{ deleted: boolean }>('DELETE', jobPath(id))).deleted;
  }

  private headers(): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body));
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new BonsaiError(`${method} ${this.address}${path}: the answer is not JSON: ${text.slice(0, 200)}`, {
        hint: 'is this the Ray dashboard address (default port 8265)?',
      });
    }
  }

  /** One request; non-2xx answers (other than those in `allowed`) become BonsaiErrors. */
  private async request(method: string, path: string, body?: string | Uint8Array, allowed: number[] = [], timeoutMs = this.timeoutMs): Promise<Response> {
    const url = `${this.address}${path}`;
    const headers: Record<string, string> = { ...this.headers() };
    if (typeof body === 'string') headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw unreachable(this.address, method, path, cause);
    }
    if (res.ok || allowed.includes(res.status)) return res;
    throw refusal(method, url, res.status, await res.text().catch(() => ''));
  }
}

function jobPath(id: string): string {
  return `/api/jobs/${encodeURIComponent(id)}`;
}

/** `gcs://_ray_pkg_x.zip` to `/api/packages/gcs/_ray_pkg_x.zip`. */
function packagePath(uri: string): string {
  const m = /^([a-z0-9]+):\/\/([^/]+)$/.exec(uri);
  if (!m) throw new Error(`not a Ray package URI: ${uri}`);
  return `/api/packages/${m[1]}/${encodeURIComponent(m[2]!)}`;
}
