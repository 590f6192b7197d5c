/**
 * A small client for MLflow's REST API (specs/mlflow.md §1): the calls bonsai needs to log
 * runs and to read them back. Errors carry MLflow's `error_code`; a proxy's non-JSON
 * answer is reported with its status and text.
 */
import { BonsaiError } from '../errors.ts';
import { HttpTransport, MlflowHttpError, redactUrl } from './http.ts';

export { MlflowHttpError } from './http.ts';

export interface KeyValue {
  key: string;
  value: string;
}
/** A metric as the API takes it: NaN and ±Infinity as MLflow's strings. */
export interface ApiMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}
export interface ApiRunInfo {
  run_id: string;
  experiment_id: string;
  artifact_uri?: string;
  status?: string;
  start_time?: number;
  end_time?: number;
  run_name?: string;
  lifecycle_stage?: string;
}
export interface ApiRun {
  info: ApiRunInfo;
  data: { metrics?: ApiMetric[]; params?: KeyValue[]; tags?: KeyValue[] };
}
export interface CallOptions {
  maxRetries?: number;
  timeoutMs?: number;
}

/** MLflow's spelling of a metric value: JSON has no NaN or Infinity. */
export function apiMetricValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** An MLflow tracking server at `uri` (`http(s)://host[:port][/prefix]`). */
export class MlflowRestClient {
  readonly http: HttpTransport;
  /** The server's address without credentials, for messages. */
  readonly display: string;

  constructor(uri: string, env: NodeJS.ProcessEnv = process.env) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new BonsaiError(`tracking uri "${uri}" is not a valid URL`);
    }
    this.http = new HttpTransport(url, env);
    this.display = redactUrl(url);
  }

  /** Calls `/api/2.0/mlflow/<endpoint>`: GET with query fields, POST with a JSON body. */
  async call<T>(method: 'GET' | 'POST', endpoint: string, fields: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<T> {
    let path = `/api/2.0/mlflow/${endpoint}`;
    let body: Buffer | undefined;
    if (method === 'GET') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) q.set(k, String(v));
      if ([...q].length) path += `?${q}`;
    } else body = Buffer.from(JSON.stringify(fields));
    const res = await this.http.send(method, path, body, opts);
    return parseAnswer<T>(res.status, res.text, `${method} ${endpoint}`, this.display);
  }

  /** The experiment named `name`, or undefined when there is none. */
  async getExperimentByName(name: string, opts: CallOptions = {}): Promise<{ experiment_id: string; name: string; artifact_location?: string } | undefined> {
    try {
      const r = await this.call<{ experiment: { experiment_id: string; name: string } }>('GET', 'experiments/get-by-name', { experiment_name: name }, opts);
      return r.experiment;
    } catch (e) {
      if (e instanceof MlflowHttpError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw e;
    }
  }

  /** The id of the experiment named `name`, created when missing; a lost creation race re-reads. */
  async getOrCreateExperiment(name: string, opts: CallOptions = {}): Promise<string> {
    const found = await this.getExperimentByName(name, opts);
    if (found) return found.experiment_id;
    try {
      return (await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name }, opts)).experiment_id;
    } catch (e) {
      if (!(e instanceof MlflowHttpError && e.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw e;
      const again = await this.getExperimentByName(name, opts);
      if (!again) throw e;
      return again.experiment_id;
    }
  }

  async createRun(req: { experiment_id: string; run_name?: string; start_time?: number; tags?: KeyValue[] }, opts: CallOptions = {}): Promise<ApiRunInfo> {
    return (await this.call<{ run: ApiRun }>('POST', 'runs/create', req, opts)).run.info;
  }

  async updateRun(req: { run_id: string; status?: string; end_time?: number; run_name?: string }, opts: CallOptions = {}): Promise<void> {
    await this.call('POST', 'runs/update', req, opts);
  }

  async logBatch(req: { run_id: string; metrics?: ApiMetric[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    await this.call('POST', 'runs/log-batch', { metrics: [], params: [], tags: [], ...req });
  }

  async getRun(runId: string, opts: CallOptions = {}): Promise<ApiRun> {
    return (await this.call<{ run: ApiRun }>('GET', 'runs/get', { run_id: runId }, opts)).run;
  }

  /** Uploads one file through the proxied-artifacts API; `runPath` is `<experiment_id>/<run_id>/artifacts`. */
  async putArtifact(runPath: string, artifactPath: string, bytes: Buffer): Promise<void> {
    const res = await this.http.send('PUT', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${runPath}/${artifactPath}`)}`, bytes, { contentType: 'application/octet-stream' });
    parseAnswer(res.status, res.text, `PUT artifact ${artifactPath}`, this.display);
  }

  async getArtifact(runPath: string, artifactPath: string): Promise<Buffer> {
    const res = await this.http.send('GET', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(`${runPath}/${artifactPath}`)}`);
    if (res.status !== 200) parseAnswer(res.status, res.text, `GET artifact ${artifactPath}`, this.display);
    return res.body;
  }

  close(): void {
    this.http.close();
  }
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

function parseAnswer<T>(status: number, text: string, what: string, server: string): T {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (status >= 200 && status < 300) {
    if (json === undefined) throw new MlflowHttpError(`${what} at ${server}: answer is not JSON: ${text.slice(0, 200)}`, status);
    return json as T;
  }
  const body = json as { error_code?: string; message?: string } | undefined;
  const detail = body?.error_code ? `${body.error_code}: ${body.message ?? ''}` : `HTTP ${status}: ${text.slice(0, 200)}`;
  const hint = status === 401 ? 'set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD'
    : status === 403 ? 'these credentials may not write to this experiment; ask the server admin for permission' : undefined;
  throw new MlflowHttpError(`${what} at ${server} failed: ${detail}`, status, body?.error_code, { hint });
}
