import { intFlag, parse, usage, type Command } from './args.ts';
import { isLoopback, startUiServer } from '../ui/server.ts';
import { openStore } from './runs.ts';

const HELP = usage('bonsai ui [options]', 'Serve a page that lists runs and overlays their metric curves; it updates while runs train.', [
  ['--store DIR|URL', 'a store folder or an MLflow server URL (default: $MLFLOW_TRACKING_URI, else ./mlruns)'],
  ['--port N', 'port to listen on (default 5050; 0 picks a free one)'],
  ['--host H', 'address to listen on (default 127.0.0.1; others expose your runs to the network)'],
  ['-h, --help', 'show this help'],
], 'Stop with Ctrl-C.');

/** `bonsai ui`: serves until SIGINT or SIGTERM, then exits 0. */
export const uiCommand: Command = async (argv) => {
  const { values, positionals } = parse('ui', argv, { store: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } });
  if (values.help) return (process.stdout.write(HELP), 0);
  if (positionals.length) return (process.stderr.write(`bonsai ui: unexpected argument "${positionals[0]}"\n\n${HELP}`), 2);
  const host = values.host ?? '127.0.0.1';
  const store = openStore(values.store);
  await store.list(); // a missing store is reported now, not as an empty page
  if (!isLoopback(host)) {
    process.stderr.write(`warning: serving on ${host}: anyone who can reach this machine can read these runs (there is no login)\n`);
  }
  // Listen for the stop signals before announcing the URL: whoever reads it may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const ui = await startUiServer(store, { host, port: intFlag('--port', values.port) ?? 5050 });
  process.stdout.write(`bonsai ui: ${store.location} at ${ui.url} (Ctrl-C to stop)\n`);
  await stopped;
  await ui.close();
  return 0;
};
