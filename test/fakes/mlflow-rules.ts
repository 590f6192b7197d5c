/**
 * MLflow's rules for log-batch requests, keys and values (specs/mlflow.md §1), as the fake
 * server enforces them, with MLflow's own error codes and messages.
 */
import type { FakeRun } from './mlflow-server.ts';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}
export const bad = (msg: string) => new ApiError(400, 'INVALID_PARAMETER_VALUE', msg);
const KEY = /^[/\p{L}\p{N}_.\- ]*$/u;
export const LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000, bytes: 1_000_000 };

export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 250 || !KEY.test(key) || key.includes('..') || key.startsWith('/')) {
    throw bad(`Invalid value ${JSON.stringify(key)} for parameter 'key' supplied: names may be up to 250 characters, alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/)`);
  }
  return key;
}

/** Validates a whole log-batch request before applying any of it, as MLflow does. */
export function applyLogBatch(run: FakeRun, q: Record<string, any>): void {
  checkActive(run);
  const metrics: any[] = q.metrics ?? [];
  const params: any[] = q.params ?? [];
  const tags: any[] = q.tags ?? [];
  if (metrics.length > LIMITS.metrics) throw bad(`A batch logging request can contain at most ${LIMITS.metrics} metrics. Got ${metrics.length} metrics.`);
  if (params.length > LIMITS.params) throw bad(`A batch logging request can contain at most ${LIMITS.params} params. Got ${params.length} params.`);
  if (tags.length > LIMITS.tags) throw bad(`A batch logging request can contain at most ${LIMITS.tags} tags. Got ${tags.length} tags.`);
  if (metrics.length + params.length + tags.length > LIMITS.total) throw bad(`A batch logging request can contain at most ${LIMITS.total} total metrics, params, and tags.`);
  const seen = new Set<string>();
  for (const p of params) {
    checkKey(p.key);
    if (seen.has(p.key)) throw bad(`Duplicate parameter keys have been submitted: ['${p.key}']`);
    seen.add(p.key);
    if (typeof p.value !== 'string' || p.value.length > 500) throw bad(`Param value for '${p.key}' must be a string of at most 500 characters`);
    const old = run.params.get(p.key);
    if (old !== undefined && old !== p.value) throw bad(`Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for run ID='${run.info.run_id}'. Attempted logging new value '${p.value}'.`);
  }
  for (const t of tags) {
    checkKey(t.key);
    if (typeof t.value !== 'string' || t.value.length > 5000) throw bad(`Tag value for '${t.key}' must be a string of at most 5000 characters`);
  }
  for (const x of metrics) {
    checkKey(x.key);
    const okValue = typeof x.value === 'number' || ['NaN', 'Infinity', '-Infinity'].includes(x.value);
    if (!okValue) throw bad(`Got invalid value ${JSON.stringify(x.value)} for metric '${x.key}'`);
    if (!Number.isInteger(x.timestamp) || x.timestamp < 0) throw bad(`Got invalid timestamp ${x.timestamp} for metric '${x.key}'`);
    if (!Number.isInteger(x.step)) throw bad(`Got invalid step ${x.step} for metric '${x.key}'`);
  }
  for (const p of params) run.params.set(p.key, p.value);
  for (const t of tags) run.tags.set(t.key, t.value);
  for (const x of metrics) run.metrics.push({ key: x.key, value: x.value, timestamp: x.timestamp, step: x.step });
}

/** MLflow refuses writes to a deleted run (`_check_run_is_active`: 400 INVALID_STATE). */
export function checkActive(run: FakeRun): FakeRun {
  if (run.info.lifecycle_stage !== 'active') {
    throw new ApiError(400, 'INVALID_STATE', `The run ${run.info.run_id} must be in the 'active' state. Current state is ${run.info.lifecycle_stage}.`);
  }
  return run;
}

const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

/**
 * `runs/update` (specs/mlflow.md §1): status one of MLflow's five names, end_time an int64
 * (omitted: kept, so a run set back to RUNNING keeps its old end_time, as on MLflow), run_name a string.
 */
export function applyUpdateRun(run: FakeRun, q: Record<string, any>): void {
  checkActive(run);
  if (q.status !== undefined && !RUN_STATUSES.includes(q.status)) throw bad(`Invalid value ${JSON.stringify(q.status)} for parameter 'status' supplied.`);
  if (q.end_time !== undefined && (!Number.isInteger(q.end_time) || q.end_time < 0)) throw bad(`Invalid value ${JSON.stringify(q.end_time)} for parameter 'end_time' supplied.`);
  if (q.run_name !== undefined && typeof q.run_name !== 'string') throw bad(`Invalid value ${JSON.stringify(q.run_name)} for parameter 'run_name' supplied.`);
  if (q.status) run.info.status = q.status;
  if (q.end_time !== undefined) run.info.end_time = q.end_time;
  if (q.run_name) {
    run.info.run_name = q.run_name;
    run.tags.set('mlflow.runName', q.run_name);
  }
  (run.statusHistory ??= []).push(run.info.status);
}
