/**
 * A `RunStore` over an MLflow tracking server's REST API (specs/mlflow.md §1): experiments
 * and runs from `experiments/search` and `runs/search`, histories from
 * `metrics/get-history`, all paged. Over the tracker's HTTP transport, so auth and TLS
 * follow the same MLFLOW_* variables (token or user/password, MLFLOW_TRACKING_INSECURE_TLS,
 * MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_HTTP_REQUEST_TIMEOUT up to 30 s); but no retries
 * and no spool: a viewer that fails should say so at once.
 */
import { BonsaiError } from '../../errors.ts';
import { HttpTransport, MlflowHttpError, redactUrl } from '../http.ts';
import { RUN_ID, STATUS_NAMES } from '../layout.ts';
import { latestPoint, sortHistory } from './metric-file.ts';
import type { MetricPoint, RunStatus, RunStore, RunSummary, StoreListing } from './types.ts';

const PAGE = 1000;
type Json = Record<string, unknown>;

/** Reads runs from an MLflow server at `baseUrl`; auth and TLS from `env` as the REST tracker reads them. */
export class RestRunStore implements RunStore {
  /** The server, without credentials. */
  readonly location: string;
  private readonly http: HttpTransport;

  constructor(baseUrl: string, env: NodeJS.ProcessEnv = process.env) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new BonsaiError(`run store "${baseUrl}" is not a valid URL`, { hint: 'use http(s)://host:port, or a local folder' });
    }
    this.http = new HttpTransport(url, env);
    this.location = redactUrl(url);
  }

  async list(opts: { experiment?: string } = {}): Promise<StoreListing> {
    const experiments = (await this.pages('POST', 'experiments/search', { view_type: 'ACTIVE_ONLY' }, 'experiments'))
      .map((e) => ({ id: String(e.experiment_id), name: String(e.name) }))
      .filter((e) => opts.experiment === undefined || e.name === opts.experiment || e.id === opts.experiment);
    const listing: StoreListing = { experiments, runs: [], unreadable: [] };
    if (experiments.length === 0) return listing;
    const names = new Map(experiments.map((e) => [e.id, e.name]));
    const runs = await this.pages('POST', 'runs/search', { experiment_ids: [...names.keys()], order_by: ['attributes.start_time DESC'] }, 'runs');
    for (const run of runs) {
      try {
        listing.runs.push(toSummary(run, names));
      } catch (e) {
        const id = (run.info as Json | undefined)?.run_id;
        listing.unreadable.push({ path: `runs/${typeof id === 'string' ? id : '?'}`, reason: (e as Error).message });
      }
    }
    return listing;
  }

  async histories(runId: string): Promise<Record<string, MetricPoint[]>> {
    const got = await this.call('GET', 'runs/get', { run_id: runId });
    const keys = ((((got.run as Json)?.data as Json)?.metrics as Json[] | undefined) ?? []).map((m) => String(m.key));
    const out: Record<string, MetricPoint[]> = {};
    for (const key of keys) {
      out[key] = sortHistory((await this.pages('GET', 'metrics/get-history', { run_id: runId, metric_key: key }, 'metrics')).map(toPoint));
    }
    return out;
  }

  /** Follows next_page_token until the server stops giving one. */
  private async pages(method: 'GET' | 'POST', path: string, body: Json, field: string): Promise<Json[]> {
    const all: Json[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10_000; i++) {
      const page = await this.call(method, path, { ...body, max_results: PAGE, ...(token ? { page_token: token } : {}) });
      all.push(...((page[field] as Json[] | undefined) ?? []));
      token = typeof page.next_page_token === 'string' && page.next_page_token ? page.next_page_token : undefined;
      if (!token) break;
    }
    return all;
  }

  private async call(method: 'GET' | 'POST', path: string, body: Json): Promise<Json> {
    let target = `/api/2.0/mlflow/${path}`;
    if (method === 'GET') target += `?${new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]))}`;
    const timeoutMs = Math.min(this.http.policy.timeoutMs, 30_000);
    let res: { status: number; text: string };
    try {
      res = await this.http.send(method, target, method === 'POST' ? Buffer.from(JSON.stringify(body)) : undefined, { maxRetries: 0, timeoutMs });
    } catch (e) {
      if (e instanceof MlflowHttpError && e.status !== 0) throw e; // an untrusted certificate: its message says which variable to set
      const why = (e as Error).message.replace(/^\w+ \S+: /, '');
      throw new BonsaiError(`cannot reach the MLflow server at ${this.location}: ${why}`);
    }
    let json: Json | undefined;
    try {
      json = JSON.parse(res.text) as Json;
    } catch {
      json = undefined;
    }
    if (res.status < 200 || res.status >= 300 || !json) {
      const why = json?.message ? `${String(json.error_code ?? '')} ${String(json.message)}`.trim() : res.text.slice(0, 200);
      throw new BonsaiError(`MLflow server ${path} answered ${res.status}: ${why}`, {
        hint: res.status === 401 || res.status === 403 ? 'set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD' : undefined,
      });
    }
    return json;
  }
}

/** MLflow's JSON spells non-finite metric values as strings, and int64s may be strings too. */
function num(v: unknown, what: string): number {
  const n = v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (Number.isNaN(n) && v !== 'NaN') throw new Error(`${what} is not a number: ${JSON.stringify(v)}`);
  return n;
}

function toPoint(m: Json): MetricPoint {
  return { step: num(m.step ?? 0, 'step'), timestamp: num(m.timestamp, 'timestamp'), value: num(m.value, `metric ${String(m.key)}`) };
}

function pairs(list: unknown): Record<string, string> {
  return Object.fromEntries(((list as Json[] | undefined) ?? []).map((p) => [String(p.key), String(p.value ?? '')]));
}

function toSummary(run: Json, names: Map<string, string>): RunSummary {
  const info = run.info as Json | undefined;
  const data = (run.data as Json | undefined) ?? {};
  if (!info || typeof info.run_id !== 'string' || !RUN_ID.test(info.run_id)) throw new Error('run has no valid info.run_id');
  const tags = pairs(data.tags);
  const metrics: Record<string, MetricPoint> = {};
  for (const m of (data.metrics as Json[] | undefined) ?? []) metrics[String(m.key)] = latestPoint([toPoint(m)])!;
  const status = String(info.status ?? '');
  return {
    id: info.run_id,
    experimentId: String(info.experiment_id),
    experimentName: names.get(String(info.experiment_id)) ?? String(info.experiment_id),
    name: typeof info.run_name === 'string' && info.run_name ? info.run_name : (tags['mlflow.runName'] ?? ''),
    status: ((STATUS_NAMES as string[]).includes(status) ? status : 'UNKNOWN') as RunStatus,
    startTime: info.start_time === undefined ? undefined : num(info.start_time, 'start_time'),
    endTime: info.end_time === undefined || info.end_time === null ? undefined : num(info.end_time, 'end_time'),
    params: pairs(data.params),
    tags,
    metrics,
  };
}
