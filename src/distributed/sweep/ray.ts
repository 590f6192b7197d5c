/**
 * Running a sweep's points on a Ray cluster: one Ray job per point, all submitted at once
 * (Ray queues what does not fit), each `bonsai train RECIPE --set …` with the point's
 * parent run id and tags in `runtime_env.env_vars`, then watched until every job ends.
 * The points' runs log to the recipe's tracking store, so it should be an MLflow server
 * the workers can reach; `submitRecipeJob` warns when it is a local folder.
 */
import { BonsaiError } from '../../errors.ts';
import { RayJobsClient, TERMINAL_STATUSES, type RayJobStatus } from '../client.ts';
import { submitRecipeJob } from '../submit.ts';
import type { PointOutcome } from './local.ts';
import type { PlannedPoint, SweepPlan } from './plan.ts';
import type { PointRunner } from './run.ts';

export interface RayRunnerOptions {
  /** The dashboard; default RAY_ADDRESS. */
  address?: string;
  write(line: string): void;
  /** How often job states are polled (default 2 s). */
  pollMs?: number;
  /** Folder shipped as each job's working directory (default: the current one). */
  workingDir?: string;
  interrupt?: { requested: boolean };
}

const TAIL_LINES = 6;

/** A runner that submits each point as a Ray job and waits for all of them. */
export function rayPointRunner(plan: SweepPlan, o: RayRunnerOptions): PointRunner {
  const address = o.address ?? process.env.RAY_ADDRESS;
  if (!address) throw new BonsaiError('--on ray needs a Ray cluster', { hint: 'pass --address http://<head>:8265 or set RAY_ADDRESS' });
  return async (points, ctx) => {
    const jobs: Array<{ point: PlannedPoint; id: string; started: number }> = [];
    const outcomes: PointOutcome[] = [];
    for (const point of points) {
      if (o.interrupt?.requested) break;
      const started = performance.now();
      try {
        const job = await submitRecipeJob({
          address,
          recipePath: plan.file,
          sets: point.trainSets,
          workingDir: o.workingDir,
          env: ctx.envFor(point),
          metadata: { 'bonsai.sweep.id': plan.id, 'bonsai.sweep.point': point.label, 'bonsai.sweep.parent': ctx.parentRunId },
        });
        for (const w of jobs.length === 0 ? job.warnings : []) o.write(`warning: ${w}`);
        o.write(`[${point.index} ${point.label}] submitted as Ray job ${job.submissionId}${job.uploaded ? ` (uploaded ${job.packageUri})` : ''}`);
        jobs.push({ point, id: job.submissionId, started });
      } catch (e) {
        if (!(e instanceof BonsaiError)) throw e;
        // One refused submission is one failed point; the others still go.
        o.write(`[${point.index} ${point.label}] not submitted: ${e.message}`);
        outcomes.push({ point, ok: false, exit: 'not submitted', seconds: 0, tail: [e.message], resumed: false });
      }
    }
    if (jobs.length === 0) return outcomes;
    const client = new RayJobsClient(address);
    const pending = new Map(jobs.map((j) => [j.id, j]));
    const last = new Map<string, RayJobStatus>();
    while (pending.size > 0 && !o.interrupt?.requested) {
      for (const job of [...pending.values()]) {
        const info = await client.status(job.id);
        if (last.get(job.id) !== info.status) o.write(`[${job.point.index} ${job.point.label}] ${info.status}${info.message ? `: ${info.message}` : ''}`);
        last.set(job.id, info.status);
        if (!TERMINAL_STATUSES.includes(info.status)) continue;
        pending.delete(job.id);
        const ok = info.status === 'SUCCEEDED';
        const tail = ok ? [] : (await client.logs(job.id).catch((e: Error) => e.message)).trimEnd().split('\n').slice(-TAIL_LINES);
        outcomes.push({ point: job.point, ok, exit: info.status, seconds: (performance.now() - job.started) / 1000, tail, resumed: false });
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
    }
    if (pending.size > 0) o.write(`stopped waiting; ${pending.size} Ray job(s) still run on the cluster: ${[...pending.keys()].join(', ')} (bonsai ray stop ID)`);
    return outcomes.sort((a, b) => a.point.index - b.point.index);
  };
}
