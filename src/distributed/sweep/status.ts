/**
 * Where a sweep stands, read from the tracking store: its parent, and per point the runs
 * nested under it (a point run twice from scratch has two; one continued by `--resume` keeps
 * one run and counts the resume as a try), its status and final
 * metrics. `bonsai sweep status` prints it; a sweep run prints it at the end.
 */
import { table } from '../../util/table.ts';
import { BonsaiError } from '../../errors.ts';
import { formatValue, type RunStatus, type RunStore, type RunSummary } from '../../tracking/store/index.ts';
import { childrenOf, findParent, SWEEP_TAGS } from './parent.ts';

/** A point as status needs it: identity and label (from the plan, or from a child's tags). */
export interface PointRef {
  index?: number;
  key: string;
  label: string;
}

/** One point's state. `NOT RUN`: no run of it exists under the parent. */
export interface PointState {
  point: PointRef;
  status: RunStatus | 'NOT RUN';
  /** The run that speaks for the point: its FINISHED run if any, else the newest. */
  run?: RunSummary;
  /** How many times the point was started: its runs, plus the `--resume`s that continued one of them in place. */
  attempts: number;
}

/** The newest run first. */
const newest = (a: RunSummary, b: RunSummary) => (b.startTime ?? 0) - (a.startTime ?? 0);

/**
 * The starts a run stands for: 1, plus each `--resume` that continued it in place
 * (`bonsai.resumed` counts resumes; a run opened anew by a resume, tagged
 * `bonsai.resumed.from_run`, counts its first start once; the old tag value `true` counts none).
 */
export function runAttempts(r: RunSummary): number {
  const resumes = Number(r.tags['bonsai.resumed']);
  if (!Number.isInteger(resumes) || resumes < 1) return 1;
  return 1 + resumes - (r.tags['bonsai.resumed.from_run'] !== undefined || r.tags['bonsai.resumed.new_run_reason'] !== undefined ? 1 : 0);
}

/** Each point's state; points with no run are NOT RUN. */
export function pointStates(points: PointRef[], children: RunSummary[]): PointState[] {
  return points.map((point) => {
    const runs = children.filter((r) => r.tags[SWEEP_TAGS.point] === point.key).sort(newest);
    const run = runs.find((r) => r.status === 'FINISHED') ?? runs[0];
    return { point, status: run?.status ?? 'NOT RUN', run, attempts: runs.reduce((n, r) => n + runAttempts(r), 0) };
  });
}

/** The points a sweep's children name, for a sweep known only by its id. */
function pointsFromChildren(children: RunSummary[]): PointRef[] {
  const byKey = new Map<string, PointRef>();
  for (const r of children) {
    const key = r.tags[SWEEP_TAGS.point];
    if (key === undefined || byKey.has(key)) continue;
    const index = Number(r.tags[SWEEP_TAGS.index]);
    byKey.set(key, { key, label: r.tags[SWEEP_TAGS.label] ?? key, index: Number.isInteger(index) ? index : undefined });
  }
  return [...byKey.values()].sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity));
}

/** The parent a user names: a sweep id (or a prefix of one), a parent run id prefix, or its name. */
function findSweep(runs: RunSummary[], query: string): RunSummary {
  const q = query.trim();
  const parents = runs.filter((r) => r.tags[SWEEP_TAGS.role] === 'parent');
  const exact = parents.filter((r) => r.tags[SWEEP_TAGS.id] === q || r.id === q);
  const matches = exact.length ? exact : parents.filter((r) => r.tags[SWEEP_TAGS.id]?.startsWith(q) || r.id.startsWith(q) || r.name === q);
  const ids = new Set(matches.map((r) => r.tags[SWEEP_TAGS.id]));
  if (ids.size === 1) return findParent(matches, [...ids][0]!)!;
  if (ids.size > 1) throw new BonsaiError(`"${q}" matches ${ids.size} sweeps: ${[...ids].join(', ')}`, { hint: 'give more of the sweep id' });
  throw new BonsaiError(`no sweep matches "${q}"`, {
    hint: parents.length ? `sweeps in this store: ${parents.map((p) => `${p.tags[SWEEP_TAGS.id]} (${p.name})`).join(', ')}` : 'this store has no sweeps yet; pass --store if they are elsewhere',
  });
}

/** The store's runs (of `experiment`, if given); a local store that does not exist yet has none. */
export async function listSweepRuns(store: RunStore, experiment?: string): Promise<RunSummary[]> {
  try {
    return (await store.list({ experiment })).runs;
  } catch (e) {
    if (e instanceof BonsaiError && /ENOENT/.test(e.message)) return [];
    throw e;
  }
}

/** The parent and the points' states, read fresh from the store. `points` omitted: those the children name. */
export async function sweepStatus(store: RunStore, experiment: string | undefined, sweep: { id: string } | { query: string }, points?: PointRef[]) {
  const runs = await listSweepRuns(store, experiment);
  const parent = 'id' in sweep ? findParent(runs, sweep.id) : findSweep(runs, sweep.query);
  const children = parent ? childrenOf(runs, parent.id) : [];
  return { parent, states: pointStates(points ?? pointsFromChildren(children), children) };
}

/** A final metric of a run, or '-'. */
function metric(r: RunSummary | undefined, key: string): string {
  const p = r?.metrics[key];
  return p ? formatValue(p.value) : '-';
}

/** The status as text: a header line, then one row per point. */
export function statusText(parent: RunSummary | undefined, states: PointState[], sweepId?: string): string {
  const count = (s: string) => states.filter((x) => x.status === s).length;
  const head = parent
    ? `sweep ${parent.tags[SWEEP_TAGS.id]} (parent run ${parent.id}, "${parent.name}", ${parent.status}): ${count('FINISHED')}/${states.length} finished, ${count('FAILED')} failed, ${count('RUNNING')} running, ${count('NOT RUN')} not run`
    : `sweep ${sweepId ?? ''} not started yet: ${states.length} points, none run`.replace('  ', ' ');
  const rows = states.map((s) => [
    s.point.index === undefined ? '-' : String(s.point.index),
    s.point.label,
    s.status,
    s.run ? s.run.id.slice(0, 8) : '-',
    String(s.attempts),
    metric(s.run, 'train/loss'),
    metric(s.run, 'eval/loss'),
  ]);
  return `${head}\n${table([['#', 'POINT', 'STATUS', 'RUN', 'TRIES', 'TRAIN LOSS', 'EVAL LOSS'], ...rows])}`;
}
