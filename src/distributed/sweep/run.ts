/**
 * One sweep, start to end: find (or make) its parent run, skip the points that already
 * finished under it, run the rest (here or on Ray), and close the parent FINISHED when
 * every point has, FAILED when any failed, KILLED when stopped.
 */
import { BonsaiError } from '../../errors.ts';
import { DEFAULT_TRACKING_URI, resolveTrackingUri } from '../../tracking/index.ts';
import type { RunStore } from '../../tracking/store/index.ts';
import { childRunEnv } from '../../tracking/run-env.ts';
import { runPointsLocally, type PointOutcome } from './local.ts';
import { childrenOf, childTags, createParent, findParent, setParentStatus, type ParentStatus } from './parent.ts';
import type { PlannedPoint, SweepPlan } from './plan.ts';
import { listSweepRuns, pointStates, statusText } from './status.ts';

/** The tracking URI the points' runs will use: the recipe's, else MLFLOW_TRACKING_URI, as `bonsai train` decides. */
export function sweepTrackingUri(plan: SweepPlan): string {
  const uri = plan.base.tracking.uri === DEFAULT_TRACKING_URI ? resolveTrackingUri() : plan.base.tracking.uri;
  if (uri.trim().toLowerCase() === 'none') {
    throw new BonsaiError('a sweep needs tracking (a folder or an MLflow server): it groups the points under a parent run and skips those already finished', {
      hint: 'set tracking.uri in the recipe, e.g. --set tracking.uri=./mlruns',
    });
  }
  return uri;
}

/** Runs one batch of points somewhere and says how each ended. */
export type PointRunner = (points: PlannedPoint[], ctx: { parentRunId: string; envFor(p: PlannedPoint): Record<string, string> }) => Promise<PointOutcome[]>;

export interface SweepRunOptions {
  store: RunStore;
  /** The tracking URI (from sweepTrackingUri); the parent is written there. */
  uri: string;
  /** List the points and what would happen, run nothing, create nothing. */
  dryRun?: boolean;
  write(line: string): void;
  /** Runs the points; default: locally, `plan.spec.parallel` at once. */
  runner?: PointRunner;
  interrupt?: { requested: boolean };
}

export interface SweepResult {
  parentRunId?: string;
  skipped: PlannedPoint[];
  outcomes: PointOutcome[];
  status?: ParentStatus;
}

/** Runs the sweep `plan` describes. */
export async function runSweep(plan: SweepPlan, o: SweepRunOptions): Promise<SweepResult> {
  const experiment = plan.base.tracking.experiment;
  const runs = await listSweepRuns(o.store, experiment);
  const existing = findParent(runs, plan.id);
  const states = pointStates(plan.points, existing ? childrenOf(runs, existing.id) : []);
  const skipped = plan.points.filter((_, i) => states[i]!.status === 'FINISHED');
  const todo = plan.points.filter((_, i) => states[i]!.status !== 'FINISHED');
  o.write(`sweep ${plan.id}: ${plan.points.length} points of ${plan.file}; ${existing ? `parent run ${existing.id} ("${existing.name}")` : `new parent run "${plan.name}"`} in ${o.uri} (experiment "${experiment}")`);
  for (const [i, p] of plan.points.entries()) {
    const s = states[i]!;
    if (s.status === 'FINISHED') o.write(`[${p.index} ${p.label}] skipped (finished in run ${s.run!.id})`);
    else if (o.dryRun) o.write(`[${p.index} ${p.label}] would run ${p.runName} into ${p.outDir}${s.attempts ? ` (${s.attempts} earlier attempt${s.attempts > 1 ? 's' : ''}, last ${s.status})` : ''}`);
  }
  if (o.dryRun) return { parentRunId: existing?.id, skipped, outcomes: [] };
  if (todo.length === 0) {
    o.write('every point has finished; nothing to run');
    if (existing && existing.status !== 'FINISHED') await setParentStatus(o.uri, existing, 'FINISHED');
    return { parentRunId: existing?.id, skipped, outcomes: [], status: 'FINISHED' };
  }

  const parent = existing ? { runId: existing.id, experimentId: existing.experimentId } : await createParent(o.uri, experiment, plan);
  if (existing) await setParentStatus(o.uri, existing, 'RUNNING');
  const envFor = (p: PlannedPoint) => childRunEnv(parent.runId, childTags(plan, p));
  const runner: PointRunner =
    o.runner ?? ((points) => runPointsLocally(points, { recipeFile: plan.file, parallel: plan.spec.parallel, envFor, write: o.write, interrupt: o.interrupt }));
  let outcomes: PointOutcome[] = [];
  let status: ParentStatus = 'FAILED';
  try {
    outcomes = await runner(todo, { parentRunId: parent.runId, envFor });
    const failed = outcomes.filter((x) => !x.ok);
    status = o.interrupt?.requested ? 'KILLED' : failed.length || outcomes.length < todo.length ? 'FAILED' : 'FINISHED';
  } finally {
    await setParentStatus(o.uri, { id: parent.runId, experimentId: parent.experimentId }, status);
  }
  const after = await listSweepRuns(o.store, experiment);
  const parentRun = after.find((r) => r.id === parent.runId);
  o.write('');
  o.write(statusText(parentRun, pointStates(plan.points, childrenOf(after, parent.runId))).trimEnd());
  for (const x of outcomes.filter((y) => !y.ok)) o.write(`point ${x.point.index} (${x.point.label}) failed (exit ${x.exit}):\n${x.tail.map((l) => `  ${l}`).join('\n')}`);
  return { parentRunId: parent.runId, skipped, outcomes, status };
}
