/**
 * `bonsai ray …`: run recipes as Ray jobs and watch them. The cluster is named by
 * --address or RAY_ADDRESS (the dashboard, http://<head>:8265); its token comes from
 * RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token.
 */
import { BonsaiError } from '../errors.ts';
import { RayJobsClient, TERMINAL_STATUSES, type RayJobInfo } from '../distributed/client.ts';
import { submitRecipeJob } from '../distributed/submit.ts';
import { parse, usage, type Command } from './args.ts';

const HELP = usage('bonsai ray <submit RECIPE | status ID | logs ID | stop ID | delete ID | list> [options]', 'Run a recipe on a Ray cluster as one job, and watch, stop or list jobs.', [
  ['submit RECIPE', 'ship the working directory and run `npx bonsai train RECIPE` on the cluster'],
  ['status ID', "a job's state and Ray's message"],
  ['logs ID [--follow]', "a job's log; --follow streams it until the job ends (exit 0 only if it succeeded)"],
  ['stop ID', 'stop a pending or running job'],
  ['delete ID', "forget a finished job's record"],
  ['list', 'the jobs the cluster knows'],
  ['--address URL', 'the Ray dashboard, e.g. http://head:8265 (default: RAY_ADDRESS)'],
  ['--set PATH=VALUE', '(submit) override a recipe field, checked here and passed to bonsai train (repeatable)'],
  ['--cpus N, --gpus N', '(submit) resources reserved for the job (default: the recipe\'s ray.cpus / ray.gpus)'],
  ['--env NAME=VALUE', '(submit) an environment variable for the job (repeatable; over the recipe\'s ray.env)'],
  ['--submission-id ID', '(submit) name the job yourself (Ray refuses a name in use)'],
  ['-h, --help', 'show this help'],
], 'The worker runs `npm ci` first when its copy has no node_modules. MLFLOW_TRACKING_URI is passed on to the job;\nset it to a shared MLflow server, or the runs stay on the worker. See docs/cluster.md.');

export const rayCommand: Command = async (argv) => {
  const { values, positionals } = parse('ray', argv, {
    address: { type: 'string' },
    set: { type: 'string', multiple: true },
    cpus: { type: 'string' },
    gpus: { type: 'string' },
    env: { type: 'string', multiple: true },
    'submission-id': { type: 'string' },
    follow: { type: 'boolean', short: 'f' },
  });
  const [sub, arg, ...extra] = positionals;
  if (values.help || !sub) return (process.stdout.write(HELP), values.help ? 0 : 2);
  const known = ['submit', 'status', 'logs', 'stop', 'delete', 'list'];
  if (!known.includes(sub)) return (process.stderr.write(`bonsai ray: unknown subcommand "${sub}"\n\n${HELP}`), 2);
  const wantsArg = sub !== 'list';
  if ((wantsArg && !arg) || extra.length > 0 || (!wantsArg && arg)) {
    return (process.stderr.write(`bonsai ray ${sub}: expected ${wantsArg ? (sub === 'submit' ? 'one RECIPE' : 'one job ID') : 'no arguments'}\n\n${HELP}`), 2);
  }
  const address = values.address ?? process.env.RAY_ADDRESS;

  if (sub === 'submit') {
    const r = await submitRecipeJob({
      address,
      recipePath: arg!,
      sets: values.set ?? [],
      env: parseEnv(values.env ?? []),
      cpus: numFlag('--cpus', values.cpus),
      gpus: numFlag('--gpus', values.gpus),
      submissionId: values['submission-id'],
    });
    for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(
      `package ${r.packageUri} (${r.uploaded ? 'uploaded' : 'already on the cluster'})\n` +
        `submitted ${r.submissionId} to ${r.address}\n` +
        `watch:  bonsai ray logs ${r.submissionId} --follow --address ${r.address}\n` +
        `status: bonsai ray status ${r.submissionId} --address ${r.address}\n`,
    );
    return 0;
  }

  if (!address) throw new BonsaiError('no Ray cluster named', { hint: 'pass --address http://<head>:8265 or set RAY_ADDRESS' });
  const client = new RayJobsClient(address);
  if (sub === 'list') {
    const jobs = await client.list();
    process.stdout.write(jobs.length ? `${jobs.map(jobLine).join('\n')}\n` : `no jobs on ${client.address}\n`);
    return 0;
  }
  const id = arg!;
  if (sub === 'status') {
    const j = await client.status(id);
    process.stdout.write(`${jobLine(j)}\n${j.message ? `${j.message}\n` : ''}entrypoint: ${j.entrypoint}\n`);
    return 0;
  }
  if (sub === 'logs') {
    if (!values.follow) return (process.stdout.write(await client.logs(id)), 0);
    await client.followLogs(id, (chunk) => process.stdout.write(chunk));
    const j = await client.status(id);
    process.stderr.write(`job ${id}: ${j.status}${j.message && j.status !== 'SUCCEEDED' ? ` (${j.message.split('\n')[0]})` : ''}\n`);
    return j.status === 'SUCCEEDED' ? 0 : TERMINAL_STATUSES.includes(j.status) ? 1 : 0;
  }
  if (sub === 'stop') {
    const stopped = await client.stop(id);
    process.stdout.write(stopped ? `stopping ${id}\n` : `${id} had already ended\n`);
    return 0;
  }
  const deleted = await client.delete(id);
  process.stdout.write(deleted ? `deleted ${id}\n` : `${id} was not deleted\n`);
  return deleted ? 0 : 1;
};

/** `ID  STATUS  run  started`: one line per job. */
function jobLine(j: RayJobInfo): string {
  const started = j.start_time ? new Date(j.start_time).toISOString().replace(/\.\d+Z$/, 'Z') : '-';
  const run = j.metadata?.['bonsai.run'] ?? j.entrypoint.slice(0, 60);
  return `${j.submission_id ?? j.job_id}  ${j.status.padEnd(9)}  ${started}  ${run}`;
}

function numFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || value.trim() === '') throw new BonsaiError(`${flag} must be a non-negative number, got "${value}"`);
  return n;
}

function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(p);
    if (!m) throw new BonsaiError(`--env expects NAME=VALUE, got "${p}"`);
    env[m[1]!] = m[2]!;
  }
  return env;
}
