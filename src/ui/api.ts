/**
 * The ui's JSON API over a RunStore: the run list, a run's metric histories (thinned for
 * drawing), the params that differ between runs, and the `bonsai diff` reports given at
 * start. Run ids must be 32 hex characters, so no request names anything but a run.
 */
import type { ServerResponse } from 'node:http';
import { differingParams } from '../tracking/store/compare.ts';
import type { RunStore } from '../tracking/store/types.ts';
import type { LoadedDiff } from './diff-report.ts';
import { thinColumns } from './downsample.ts';

const RUN_ID = /^[0-9a-f]{32}$/;
/** Points per metric sent when the page does not ask: enough for a chart a screen wide. */
export const DEFAULT_POINTS = 2000;

export type Send = (res: ServerResponse, code: number, body: unknown) => void;

/** Answers an /api/ request; false when no route matches. */
export async function handleApi(url: URL, res: ServerResponse, store: RunStore, diffs: readonly LoadedDiff[], send: Send): Promise<boolean> {
  if (url.pathname === '/api/runs') {
    const l = await store.list({ experiment: url.searchParams.get('experiment') ?? undefined });
    send(res, 200, { location: store.location, ...l });
    return true;
  }
  if (url.pathname === '/api/params') {
    const ids = (url.searchParams.get('runs') ?? '').split(',').filter(Boolean);
    if (!ids.every((id) => RUN_ID.test(id))) return (send(res, 400, { error: 'runs must be run ids' }), true);
    const runs = (await store.list()).runs.filter((r) => ids.includes(r.id));
    send(res, 200, { differing: differingParams(runs), params: Object.fromEntries(runs.map((r) => [r.id, r.params])) });
    return true;
  }
  if (url.pathname === '/api/diffs') {
    send(res, 200, { reports: diffs });
    return true;
  }
  const m = /^\/api\/runs\/([^/]+)\/metrics$/.exec(url.pathname);
  if (!m) return false;
  if (!RUN_ID.test(m[1]!)) return (send(res, 400, { error: 'not a run id' }), true);
  const points = Number(url.searchParams.get('points') ?? DEFAULT_POINTS);
  if (!Number.isInteger(points) || points < 4 || points > 1_000_000) return (send(res, 400, { error: 'points must be an integer from 4 to 1000000' }), true);
  let histories;
  try {
    histories = await store.histories(m[1]!);
  } catch (e) {
    return (send(res, 404, { error: (e as Error).message }), true);
  }
  // Columns, not points: a long history is a third the size, and it is what uPlot takes.
  const metrics = Object.fromEntries(Object.entries(histories).map(([k, pts]) => [k, thinColumns({
    step: pts.map((p) => p.step), time: pts.map((p) => p.timestamp), value: pts.map((p) => p.value),
  }, points)]));
  send(res, 200, { id: m[1], metrics });
  return true;
}
