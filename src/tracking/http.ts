/**
 * HTTP for the MLflow REST client: auth, TLS and retries exactly as MLflow's Python client
 * does them (specs/mlflow.md §1), on node:http/https so a custom CA or insecure TLS works
 * without extra packages. Credentials never appear in a message.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BonsaiError } from '../errors.ts';

/** Statuses MLflow's client retries (POST included). */
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
const MAX_BACKOFF_S = 120;

/** A failed call: `status` 0 means the server was not reached (refused, reset, timed out). */
export class MlflowHttpError extends BonsaiError {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode?: string,
    opts: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts);
    this.name = 'MlflowHttpError';
  }
  /** True when retrying later may succeed: the server was unreachable or overloaded. */
  get transient(): boolean {
    return this.status === 0 || RETRY_STATUSES.has(this.status);
  }
}

/** Retry and timeout settings, from MLflow's environment variables. */
export interface RetryPolicy {
  maxRetries: number;
  backoffFactorS: number;
  jitterS: number;
  timeoutMs: number;
}

function num(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new BonsaiError(`${name} must be a non-negative number, got "${v}"`);
  return n;
}

/** MLflow's defaults (5 retries, factor 2 s, jitter 1 s, timeout 120 s) unless the env says otherwise. */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  return {
    maxRetries: Math.floor(num(env, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES', 5)),
    backoffFactorS: num(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', 2),
    jitterS: num(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_JITTER', 1),
    timeoutMs: num(env, 'MLFLOW_HTTP_REQUEST_TIMEOUT', 120) * 1000,
  };
}

/** Seconds before retry `n` (1-based): `factor · 2^(n-1)` plus jitter, capped at 120 s. */
export function backoffSeconds(n: number, p: RetryPolicy, retryAfter?: string | null, random = Math.random): number {
  const after = parseRetryAfter(retryAfter);
  if (after !== undefined) return Math.min(after, MAX_BACKOFF_S);
  return Math.min(p.backoffFactorS * 2 ** (n - 1), MAX_BACKOFF_S) + p.jitterS * random();
}

function parseRetryAfter(v?: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** Headers and TLS options from MLFLOW_TRACKING_* (token → Bearer; username+password → Basic). */
export function connectionFromEnv(url: URL, env: NodeJS.ProcessEnv = process.env) {
  const headers: Record<string, string> = {};
  if (env.MLFLOW_TRACKING_TOKEN) headers.authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD) {
    headers.authorization = `Basic ${Buffer.from(`${env.MLFLOW_TRACKING_USERNAME}:${env.MLFLOW_TRACKING_PASSWORD}`).toString('base64')}`;
  } else if (url.username) {
    // user:pass@host in the URI: used, never echoed (redactUrl drops it).
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const insecure = /^(1|true|yes)$/i.test(env.MLFLOW_TRACKING_INSECURE_TLS ?? '');
  const certPath = env.MLFLOW_TRACKING_SERVER_CERT_PATH;
  if (insecure && certPath) {
    throw new BonsaiError('MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH cannot both be set', { hint: 'unset one of them' });
  }
  const tls = { rejectUnauthorized: !insecure, ...(certPath ? { ca: readFileSync(certPath) } : {}) };
  return { headers, tls };
}

/** The URL without credentials or query, safe to print. */
export function redactUrl(url: URL | string): string {
  const u = new URL(String(url));
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

export interface HttpResponse {
  status: number;
  body: Buffer;
  text: string;
  headers: IncomingMessage['headers'];
}

/** One HTTP exchange with retries; resolves with any non-retryable status, rejects after the last retry. */
export class HttpTransport {
  private readonly agent: HttpAgent;
  private readonly headers: Record<string, string>;
  private closed = false;
  /** Backoff sleeps in progress; `close()` ends them at once. */
  private readonly wakers = new Set<() => void>();
  readonly policy: RetryPolicy;

  constructor(readonly base: URL, env: NodeJS.ProcessEnv = process.env) {
    const { headers, tls } = connectionFromEnv(base, env);
    this.headers = headers;
    this.policy = retryPolicyFromEnv(env);
    // keepAlive: one connection for the many small log-batch calls; idle sockets are unref'd by Node.
    this.agent = base.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
  }

  /** Sends with MLflow's retry rules; `opts` narrows them (run creation at start fails fast). */
  async send(method: string, path: string, body?: Buffer, opts: { contentType?: string; maxRetries?: number; timeoutMs?: number } = {}): Promise<HttpResponse> {
    const maxRetries = opts.maxRetries ?? this.policy.maxRetries;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new MlflowHttpError(`${method} ${redactUrl(this.base)}${path.split('?')[0]}: client closed`, 0);
      let res: HttpResponse | undefined;
      let err: unknown;
      try {
        res = await this.once(method, path, body, opts.contentType ?? 'application/json', opts.timeoutMs ?? this.policy.timeoutMs);
      } catch (e) {
        err = e;
      }
      if (res && !RETRY_STATUSES.has(res.status)) return res;
      const code = String((err as NodeJS.ErrnoException | undefined)?.code ?? '');
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
        // An untrusted certificate will not become trusted by retrying: say what to set.
        throw new MlflowHttpError(`${redactUrl(this.base)}: TLS certificate not trusted (${code}: ${(err as Error).message})`, 495, 'TLS_CERTIFICATE', {
          hint: "set MLFLOW_TRACKING_SERVER_CERT_PATH to the server's CA bundle, or MLFLOW_TRACKING_INSECURE_TLS=true to skip verification",
          cause: err,
        });
      }
      if (attempt >= maxRetries) {
        if (res) return res;
        throw new MlflowHttpError(`${method} ${redactUrl(this.base)}${path.split('?')[0]}: ${(err as Error).message}`, 0, undefined, { cause: err });
      }
      const wait = backoffSeconds(attempt + 1, this.policy, res?.headers['retry-after'] as string | undefined);
      await new Promise<void>((resolve) => {
        const wake = () => (clearTimeout(timer), this.wakers.delete(wake), resolve());
        // unref'd: a backoff alone never keeps a finished process alive.
        const timer = setTimeout(wake, wait * 1000).unref();
        this.wakers.add(wake);
      });
    }
  }

  private once(method: string, path: string, body: Buffer | undefined, contentType: string, timeoutMs: number): Promise<HttpResponse> {
    const url = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...this.headers, accept: 'application/json' };
      if (body) Object.assign(headers, { 'content-type': contentType, 'content-length': body.length });
      let finished = false;
      const req = request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          finished = true;
          const all = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: all, text: all.toString('utf8'), headers: res.headers });
        });
        res.on('error', reject);
      });
      // Timers run before I/O in each turn of the event loop: after a long training step the
      // timeout can fire while the answer already waits unread. Check again after the I/O
      // phase (setImmediate), so an answered request is never aborted and then sent twice.
      req.setTimeout(timeoutMs, () => setImmediate(() => finished || req.destroy(new Error(`no answer in ${timeoutMs / 1000} s`))));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Aborts requests in flight and backoff waits, closes connections; later sends fail at once. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.wakers]) wake();
    this.agent.destroy();
  }
}
