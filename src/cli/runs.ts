import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BonsaiError } from '../errors.ts';
import { DEFAULT_TRACKING_URI } from '../tracking/index.ts';
import { differingParams, formatValue, LocalRunStore, metricKeys, RestRunStore, resolveRun, type RunStore, type RunSummary, type StoreListing } from '../tracking/store/index.ts';
import { parse, usage, type Command } from './args.ts';
import { table } from '../util/table.ts';

const SUBCOMMANDS: Array<[string, string]> = [
  ['list', 'one line per run, newest first; unreadable folders after'],
  ['show RUN', "a run's params, final metrics and tags"],
  ['compare RUN RUN…', 'the params that differ between runs, and their final metrics'],
];
const OPTIONS: Array<[string, string]> = [
  ['--store DIR|URL', `a store folder or an MLflow server URL (default: $MLFLOW_TRACKING_URI, else ${DEFAULT_TRACKING_URI})`],
  ['--experiment NAME', 'only runs of this experiment (name or id)'],
  ['-h, --help', 'show this help'],
];
const PUSH_ROW: [string, string] = ['push RUN_DIR [--to URL]', 'send a run to an MLflow server (see `bonsai runs push --help`)'];

function helpText(withPush: boolean): string {
  return usage('bonsai runs <list | show RUN | compare RUN RUN…> [options]', 'Read the runs in an MLflow store (./mlruns by default).',
    [...SUBCOMMANDS, ...(withPush ? [PUSH_ROW] : []), ...OPTIONS], 'RUN is a run id, a unique id prefix, or a run name.');
}

/**
 * The store a viewer reads: `--store`, else MLFLOW_TRACKING_URI, else ./mlruns. An
 * http(s) URL is an MLflow server; `file:` and plain paths are local folders.
 */
export function openStore(where: string | undefined): RunStore {
  const uri = where ?? process.env.MLFLOW_TRACKING_URI ?? DEFAULT_TRACKING_URI;
  if (/^https?:\/\//i.test(uri)) return new RestRunStore(uri);
  if (/^file:\/\//i.test(uri)) return new LocalRunStore(fileURLToPath(uri));
  if (/^file:/i.test(uri)) return new LocalRunStore(uri.slice('file:'.length));
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(uri);
  if (scheme && !isAbsolute(uri)) throw new BonsaiError(`cannot read runs from a "${scheme[1]}:" store`, { hint: 'use a folder such as ./mlruns or an http(s):// MLflow server' });
  return new LocalRunStore(uri);
}

/** `bonsai runs …`; `push` is another module's, passed in when it exists. */
export function makeRunsCommand(push?: Command): Command {
  return async (argv) => {
    const [sub, ...rest] = argv;
    if (sub === 'push' && push) return push(rest);
    const help = helpText(push !== undefined);
    const { values, positionals } = parse('runs', rest, { store: { type: 'string' }, experiment: { type: 'string' } });
    if (!sub || sub === '--help' || sub === '-h' || values.help) return (process.stdout.write(help), sub ? 0 : 2);
    const store = openStore(values.store);
    const listing = await store.list({ experiment: values.experiment });
    if (sub === 'list') return (process.stdout.write(listText(listing, store.location)), 0);
    if (sub === 'show' && positionals.length === 1) return (process.stdout.write(showText(resolveRun(listing.runs, positionals[0]!))), 0);
    if (sub === 'compare' && positionals.length >= 2) {
      const runs = positionals.map((q) => resolveRun(listing.runs, q));
      if (new Set(runs.map((r) => r.id)).size < runs.length) throw new BonsaiError('the same run is named twice; compare needs different runs');
      return (process.stdout.write(compareText(runs)), 0);
    }
    process.stderr.write(`bonsai runs: ${['list', 'show', 'compare'].includes(sub) ? 'wrong number of RUNs' : `unknown subcommand "${sub}"`}\n\n${help}`);
    return 2;
  };
}

function when(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

function duration(r: RunSummary): string {
  if (r.startTime === undefined) return '-';
  const s = ((r.endTime ?? Date.now()) - r.startTime) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
}

/** The trainer logs `train/loss`; other tools' runs often log plain `loss`. */
function finalLoss(r: RunSummary): string {
  const p = r.metrics['train/loss'] ?? r.metrics.loss;
  return p ? formatValue(p.value) : '-';
}

const label = (r: RunSummary) => `${r.name || '(no name)'} ${r.id.slice(0, 8)}`;

function listText(l: StoreListing, location: string): string {
  let out = l.runs.length === 0 ? `no runs in ${location}\n` : table([
    ['ID', 'NAME', 'EXPERIMENT', 'STATUS', 'STARTED (UTC)', 'TIME', 'LOSS'],
    ...l.runs.map((r) => [r.id.slice(0, 8), r.name, r.experimentName, r.status, when(r.startTime), duration(r), finalLoss(r)]),
  ]);
  if (l.unreadable.length) out += `\nunreadable (${l.unreadable.length}):\n${l.unreadable.map((u) => `  ${u.path}: ${u.reason}`).join('\n')}\n`;
  return out;
}

function showText(r: RunSummary): string {
  const head = [
    `run         ${r.id}`, `name        ${r.name || '(no name)'}`, `experiment  ${r.experimentName} (${r.experimentId})`,
    `status      ${r.status}`, `started     ${when(r.startTime)} UTC`, `ended       ${when(r.endTime)}${r.endTime ? ' UTC' : ''} (${duration(r)})`,
  ].join('\n');
  const params = Object.entries(r.params).sort(([a], [b]) => a.localeCompare(b));
  const metrics = Object.entries(r.metrics).sort(([a], [b]) => a.localeCompare(b));
  const tags = Object.entries(r.tags).sort(([a], [b]) => a.localeCompare(b));
  return [
    head,
    params.length ? `\nparams\n${table([['PARAM', 'VALUE'], ...params])}` : '\nno params\n',
    metrics.length ? `final metrics\n${table([['METRIC', 'VALUE', 'STEP'], ...metrics.map(([k, p]) => [k, formatValue(p.value), String(p.step)])])}` : 'no metrics\n',
    tags.length ? `tags\n${table([['TAG', 'VALUE'], ...tags.map(([k, v]) => [k, v.replace(/\n/g, ' ')])])}` : '',
  ].join('\n');
}

function compareText(runs: RunSummary[]): string {
  const header = ['', ...runs.map(label)];
  const diff = differingParams(runs);
  const keys = metricKeys(runs);
  const params = diff.length ? `params that differ\n${table([['PARAM', ...header.slice(1)], ...diff.map((k) => [k, ...runs.map((r) => r.params[k] ?? '-')])])}` : 'params: all the same\n';
  const metrics = keys.length ? `final metrics\n${table([['METRIC', ...header.slice(1)], ...keys.map((k) => [k, ...runs.map((r) => (r.metrics[k] ? formatValue(r.metrics[k].value) : '-'))])])}` : 'no metrics\n';
  return `${params}\n${metrics}`;
}
