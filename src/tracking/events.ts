/**
 * What a run sends to a server, as events with unique ids (so a replay sends each once),
 * and how runs of events become log-batch requests within MLflow's limits.
 */
import type { ApiMetric, KeyValue } from './rest-client.ts';
import type { RunEndStatus } from './types.ts';

/** MLflow's log-batch limits (`mlflow/utils/validation.py`). */
const BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000, bytes: 1_000_000 } as const;

export type TrackEvent =
  /** One `logMetrics` call; values already in API form (NaN as "NaN"), keys sanitised. */
  | { id: string; kind: 'metrics'; step: number; timestamp: number; values: Record<string, number | string> }
  | { id: string; kind: 'params'; params: Record<string, string> }
  | { id: string; kind: 'tags'; tags: Record<string, string> }
  | { id: string; kind: 'artifact'; localPath: string; artifactPath?: string }
  | { id: string; kind: 'end'; status: RunEndStatus; endTime: number };

/** How to create the run on the server; the spool's first line, so a later push can. */
export interface StartRecord {
  kind: 'start';
  experiment: string;
  runName: string;
  startTime: number;
  tags: Record<string, string>;
  /** The server the run was meant for (no credentials). */
  url: string;
  /** `--resume`: continue this server run (runs/update RUNNING) rather than create one. */
  resumeRunId?: string;
}
/** The server's run, once created. */
export interface RunRecord {
  kind: 'run';
  runId: string;
  experimentId: string;
  artifactUri?: string;
  /** The server it lives on (no credentials): a push elsewhere makes a new run. */
  url?: string;
}

/** One log-batch request and the events it completes (an event split over requests completes with its last part). */
export interface BatchRequest {
  metrics: ApiMetric[];
  params: KeyValue[];
  tags: KeyValue[];
  done: string[];
}

type Item = { field: 'metrics'; v: ApiMetric } | { field: 'params' | 'tags'; v: KeyValue };

function* items(e: TrackEvent): Generator<Item> {
  if (e.kind === 'metrics') for (const [key, value] of Object.entries(e.values)) yield { field: 'metrics', v: { key, value, timestamp: e.timestamp, step: e.step } };
  else if (e.kind === 'params') for (const [key, value] of Object.entries(e.params)) yield { field: 'params', v: { key, value } };
  else if (e.kind === 'tags') for (const [key, value] of Object.entries(e.tags)) yield { field: 'tags', v: { key, value } };
}

/**
 * Packs metric, param and tag events into as few log-batch requests as MLflow's limits
 * allow: ≤1000 metrics, ≤100 params, ≤100 tags, ≤1000 items, body under 1 MB, and no param
 * key twice in one request (a server refuses the whole request for that).
 */
export function planBatches(events: TrackEvent[]): BatchRequest[] {
  const out: BatchRequest[] = [];
  const fresh = () => ({ req: { metrics: [], params: [], tags: [], done: [] } as BatchRequest, bytes: 200, paramKeys: new Set<string>() });
  let cur = fresh();
  const total = () => cur.req.metrics.length + cur.req.params.length + cur.req.tags.length;
  for (const e of events) {
    for (const it of items(e)) {
      const size = JSON.stringify(it.v).length + 1;
      const full =
        total() + 1 > BATCH_LIMITS.total ||
        cur.req[it.field].length + 1 > BATCH_LIMITS[it.field] ||
        cur.bytes + size > BATCH_LIMITS.bytes ||
        (it.field === 'params' && cur.paramKeys.has(it.v.key));
      if (full) {
        out.push(cur.req);
        cur = fresh();
      }
      (cur.req[it.field] as Array<ApiMetric | KeyValue>).push(it.v);
      if (it.field === 'params') cur.paramKeys.add(it.v.key);
      cur.bytes += size;
    }
    cur.req.done.push(e.id);
  }
  if (cur.req.done.length || total()) out.push(cur.req);
  return out;
}
