import { existsSync, statSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';
import { planSweep, type SweepFlags } from '../distributed/sweep/plan.ts';
import { runSweep, sweepTrackingUri, type PointRunner } from '../distributed/sweep/run.ts';
import type { RayRunnerOptions } from '../distributed/sweep/ray.ts';
import { statusText, sweepStatus } from '../distributed/sweep/status.ts';
import { intFlag, parse, usage, type Command } from './args.ts';
import { openStore } from './runs.ts';

const HELP = usage('bonsai sweep RECIPE [options] | bonsai sweep status RECIPE|SWEEP_ID [options]',
  'Train RECIPE once per point of a grid or random search, each run nested under one MLflow parent run.\n' +
  'Running the same sweep again skips the points that finished; a failed point does not stop the others.', [
    ['--grid PATH=V1,V2', 'sweep a recipe field over these values (repeatable; the product is taken), e.g. --grid trainer.optimizer.lr=1e-3,3e-4'],
    ['--random N', "N seeded random points from the recipe's sweep.random.space"],
    ['--seed S', "seed of the random points (default: the recipe's, else 0)"],
    ['--parallel N', 'points trained at once on this machine (default: sweep.parallel, else 1)'],
    ['--set PATH=VALUE', 'override a field of the base recipe for every point (repeatable)'],
    ['--on local|ray', 'where the points run (default local); ray: one Ray job per point'],
    ['--address URL', 'the Ray dashboard for --on ray (default: $RAY_ADDRESS)'],
    ['--dry-run', 'list the points, their run names and folders, and which would be skipped; run nothing'],
    ['--store DIR|URL', 'status only: the store to read (default: the recipe\'s tracking.uri, else $MLFLOW_TRACKING_URI, else ./mlruns)'],
    ['-h, --help', 'show this help'],
  ], 'Or put the sweep in the recipe: sweep: { grid: { trainer.optimizer.lr: [1e-3, 3e-4] }, parallel: 2 }. See docs/sweeps.md.');

const OPTIONS = {
  grid: { type: 'string', multiple: true },
  random: { type: 'string' },
  seed: { type: 'string' },
  parallel: { type: 'string' },
  set: { type: 'string', multiple: true },
  on: { type: 'string' },
  address: { type: 'string' },
  'dry-run': { type: 'boolean' },
  store: { type: 'string' },
} as const;

/** A Ray runner, loaded only when asked for (it needs the distributed module). */
async function rayRunner(plan: Parameters<typeof runSweep>[0], opts: RayRunnerOptions): Promise<PointRunner> {
  const { rayPointRunner } = await import('../distributed/sweep/ray.ts');
  return rayPointRunner(plan, opts);
}

function flagsFrom(values: { grid?: string[]; random?: string; seed?: string; parallel?: string; set?: string[] }): SweepFlags {
  const positive = (flag: string, v: string | undefined) => {
    const n = intFlag(flag, v);
    if (n === 0) throw new BonsaiError(`${flag} must be at least 1`);
    return n;
  };
  return { grids: values.grid, samples: positive('--random', values.random), seed: intFlag('--seed', values.seed), parallel: positive('--parallel', values.parallel), sets: values.set };
}

/** `bonsai sweep status RECIPE|SWEEP_ID`. */
async function statusCommand(target: string, values: ReturnType<typeof parse<typeof OPTIONS>>['values']): Promise<number> {
  const isRecipe = existsSync(target) && statSync(target).isFile();
  if (isRecipe) {
    const plan = planSweep(target, flagsFrom(values));
    const store = openStore(values.store ?? sweepTrackingUri(plan));
    const { parent, states } = await sweepStatus(store, plan.base.tracking.experiment, { id: plan.id }, plan.points);
    process.stdout.write(statusText(parent, states, plan.id));
    return 0;
  }
  const { parent, states } = await sweepStatus(openStore(values.store), undefined, { query: target });
  process.stdout.write(statusText(parent, states));
  return 0;
}

export const sweepCommand: Command = async (argv) => {
  const { values, positionals } = parse('sweep', argv, OPTIONS);
  if (values.help) return (process.stdout.write(HELP), 0);
  if (positionals[0] === 'status') {
    if (positionals.length !== 2) return (process.stderr.write(`bonsai sweep status: expected one RECIPE or SWEEP_ID\n\n${HELP}`), 2);
    return statusCommand(positionals[1]!, values);
  }
  if (positionals.length !== 1) return (process.stderr.write(`bonsai sweep: expected one RECIPE file\n\n${HELP}`), 2);
  const on = values.on ?? 'local';
  if (on !== 'local' && on !== 'ray') throw new BonsaiError(`--on must be local or ray, got "${on}"`);
  if (values.address && on !== 'ray') throw new BonsaiError('--address is the Ray dashboard for --on ray', { hint: 'add --on ray, or drop --address to run the points here' });
  if (values.store) throw new BonsaiError('--store is for `bonsai sweep status`; a sweep writes where the recipe\'s tracking.uri says');
  const plan = planSweep(positionals[0]!, flagsFrom(values));
  const uri = sweepTrackingUri(plan);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  const interrupt = { requested: false };
  const onSigint = () => {
    if (interrupt.requested) process.exit(130);
    interrupt.requested = true;
    write(on === 'ray'
      ? 'interrupt: no more points are submitted and the sweep stops waiting; submitted jobs go on running on the cluster'
      : 'interrupt: no new points will start; running ones save a checkpoint and stop (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    const runner = on === 'ray' && !values['dry-run'] ? await rayRunner(plan, { address: values.address, write, interrupt }) : undefined;
    const result = await runSweep(plan, { store: openStore(uri), uri, dryRun: values['dry-run'], write, runner, interrupt });
    if (values['dry-run']) return 0;
    if (result.status === 'KILLED') return 130;
    return result.status === 'FINISHED' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
};
