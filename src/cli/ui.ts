import { intFlag, parse, usage, type Command } from './args.ts';
import { resolveRun } from '../tracking/store/index.ts';
import { loadDiffReport } from '../ui/diff-report.ts';
import { isLoopback, startUiServer } from '../ui/server.ts';
import { openStore } from './runs.ts';

const HELP = usage('bonsai ui [options]', 'Serve a page that compares runs: a runs table, the design panels (rewards, probes, gradients, freezing, interventions, system), a grid of metric charts and `bonsai diff` reports; it updates while runs train.', [
  ['--store DIR|URL', 'a store folder or an MLflow server URL (default: $MLFLOW_TRACKING_URI, else ./mlruns)'],
  ['--run RUN', 'open the page with this run picked (id, id prefix or name; repeatable)'],
  ['--diff FILE', 'a `bonsai diff` JSON report to show in the diff view (repeatable)'],
  ['--port N', 'port to listen on (default 5050; 0 picks a free one)'],
  ['--host H', 'address to listen on (default 127.0.0.1; others expose your runs to the network)'],
  ['-h, --help', 'show this help'],
], 'Stop with Ctrl-C.');

/** The command that opens the page on `runId` (what `bonsai train` prints when it is done). */
export function uiHint(storeUri: string, runId: string): string {
  const store = /\s/.test(storeUri) ? JSON.stringify(storeUri) : storeUri;
  return `bonsai ui --store ${store} --run ${runId.slice(0, 8)}`;
}

/** `bonsai ui`: serves until SIGINT or SIGTERM, then exits 0. */
export const uiCommand: Command = async (argv) => {
  const { values, positionals } = parse('ui', argv, {
    store: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' },
    run: { type: 'string', multiple: true }, diff: { type: 'string', multiple: true },
  });
  if (values.help) return (process.stdout.write(HELP), 0);
  if (positionals.length) return (process.stderr.write(`bonsai ui: unexpected argument "${positionals[0]}"\n\n${HELP}`), 2);
  const host = values.host ?? '127.0.0.1';
  const diffs = (values.diff ?? []).map(loadDiffReport); // a bad report is reported now, before anything listens
  const store = openStore(values.store);
  const listing = await store.list(); // a missing store is reported now, not as an empty page
  const picked = (values.run ?? []).map((q) => resolveRun(listing.runs, q).id);
  if (!isLoopback(host)) {
    process.stderr.write(`warning: serving on ${host}: anyone who can reach this machine can read these runs (there is no login)\n`);
  }
  // Listen for the stop signals before announcing the URL: whoever reads it may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const ui = await startUiServer(store, { host, port: intFlag('--port', values.port) ?? 5050, diffs });
  const page = picked.length ? `${ui.url}?runs=${[...new Set(picked)].join(',')}` : ui.url;
  process.stdout.write(`bonsai ui: ${store.location} at ${page} (Ctrl-C to stop)\n`);
  await stopped;
  await ui.close();
  return 0;
};
