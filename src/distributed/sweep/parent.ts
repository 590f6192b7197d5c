/**
 * A sweep's parent run: one MLflow run that groups the points' runs (each child carries
 * `mlflow.parentRunId`, which MLflow's UI nests). A sweep is known by its id tag, a hash of
 * what it runs, so running the same sweep again finds the same parent instead of a new one.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { BonsaiError } from '../../errors.ts';
import { createTracker, LocalMlflowTracker, MlflowRestClient, RestMlflowTracker, type RunEndStatus } from '../../tracking/index.ts';
import { toMlflowYaml, writeFileAtomic } from '../../tracking/layout.ts';
import { defaultRunTags } from '../../tracking/run-tags.ts';
import type { RunSummary } from '../../tracking/store/index.ts';
import { valueText } from './points.ts';
import type { SweepPlan } from './plan.ts';

/** Tags that tie runs to a sweep. */
export const SWEEP_TAGS = {
  id: 'bonsai.sweep.id',
  /** `parent` on the parent run; children have `mlflow.parentRunId` instead. */
  role: 'bonsai.sweep.role',
  size: 'bonsai.sweep.size',
  /** A child's point identity: its values as JSON with sorted keys. */
  point: 'bonsai.sweep.point',
  label: 'bonsai.sweep.label',
  index: 'bonsai.sweep.index',
} as const;

/** MLflow's status numbers in the file store's meta.yaml. */
const STATUS_CODE = { RUNNING: 1, FINISHED: 3, FAILED: 4, KILLED: 5 } as const;
export type ParentStatus = 'RUNNING' | RunEndStatus;

/** The sweep's parent among `runs` (the oldest, should two have been made at once). */
export function findParent(runs: RunSummary[], sweepId: string): RunSummary | undefined {
  return runs
    .filter((r) => r.tags[SWEEP_TAGS.id] === sweepId && r.tags[SWEEP_TAGS.role] === 'parent')
    .sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0))[0];
}

/** The runs nested under `parentId`. */
export function childrenOf(runs: RunSummary[], parentId: string): RunSummary[] {
  return runs.filter((r) => r.tags['mlflow.parentRunId'] === parentId);
}

/** The tags of a point's run: which sweep, which point, and one `sweep.<path>` per value. */
export function childTags(plan: SweepPlan, point: SweepPlan['points'][number]): Record<string, string> {
  return {
    [SWEEP_TAGS.id]: plan.id,
    [SWEEP_TAGS.point]: point.key,
    [SWEEP_TAGS.label]: point.label,
    [SWEEP_TAGS.index]: String(point.index),
    ...Object.fromEntries(Object.entries(point.values).map(([path, v]) => [`sweep.${path}`, valueText(v)])),
  };
}

/** A line for the parent's description: what the sweep varies. */
function describeSweep(plan: SweepPlan): string {
  const dims = [
    ...Object.entries(plan.spec.grid).map(([p, vs]) => `${p} in [${vs.map(valueText).join(', ')}]`),
    ...Object.entries(plan.spec.random?.space ?? {}).map(([p, d]) => `${p} ~ ${JSON.stringify(d)}`),
  ];
  const random = plan.spec.random ? ` (${plan.spec.random.samples} random samples, seed ${plan.spec.random.seed})` : '';
  return `bonsai sweep ${plan.id} of ${plan.file}: ${plan.points.length} points over ${dims.join('; ')}${random}`;
}

/** Creates the parent run, RUNNING, and returns its id. */
export async function createParent(uri: string, experiment: string, plan: SweepPlan): Promise<{ runId: string; experimentId: string }> {
  const tags = {
    [SWEEP_TAGS.id]: plan.id,
    [SWEEP_TAGS.role]: 'parent',
    [SWEEP_TAGS.size]: String(plan.points.length),
    'bonsai.recipe': plan.file,
  };
  const tracker = createTracker(uri);
  if (tracker instanceof LocalMlflowTracker) {
    // The tracker lays the run out exactly as MLflow does; its status is then reopened to
    // RUNNING, as `mlflow.start_run(run_id=…)` would, for the points' duration.
    const started = await tracker.startRun({ experiment, runName: plan.name, tags, description: describeSweep(plan) });
    await tracker.endRun('FINISHED');
    await setParentStatus(uri, { id: started.runId, experimentId: started.experimentId }, 'RUNNING');
    return { runId: started.runId, experimentId: started.experimentId };
  }
  if (!(tracker instanceof RestMlflowTracker)) {
    throw new BonsaiError('a sweep needs tracking (a folder or an MLflow server) to group and skip its points', {
      hint: 'set tracking.uri in the recipe (or MLFLOW_TRACKING_URI); "none" keeps no record of which points ran',
    });
  }
  // On a server the parent is made directly (not through the spooling tracker): its id must be the server's.
  const client = tracker.client;
  const experimentId = await client.getOrCreateExperiment(experiment);
  const all = defaultRunTags({ experiment, runName: plan.name, tags, description: describeSweep(plan) });
  const info = await client.createRun({ experiment_id: experimentId, run_name: plan.name, start_time: Date.now(), tags: Object.entries(all).map(([key, value]) => ({ key, value })) });
  return { runId: info.run_id, experimentId };
}

/** Sets the parent's status (and end time, unless RUNNING) in the store `uri` names. */
export async function setParentStatus(uri: string, run: { id: string; experimentId: string }, status: ParentStatus): Promise<void> {
  const tracker = createTracker(uri);
  const endTime = status === 'RUNNING' ? null : Date.now();
  if (tracker instanceof LocalMlflowTracker) {
    const dir = join(tracker.root, run.experimentId, run.id);
    const meta = YAML.parse(await fsp.readFile(join(dir, 'meta.yaml'), 'utf8'), { version: '1.1' }) as Record<string, unknown>;
    meta.status = STATUS_CODE[status];
    meta.end_time = endTime;
    await writeFileAtomic(join(dir, 'meta.yaml'), toMlflowYaml(meta));
    return;
  }
  await new MlflowRestClient(uri).updateRun({ run_id: run.id, status, ...(endTime === null ? {} : { end_time: endTime }) });
}
