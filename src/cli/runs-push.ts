import { BonsaiError } from '../errors.ts';
import { pushRun } from '../tracking/index.ts';
import { parse, usage, type Command } from './args.ts';

const HELP = usage('bonsai runs push RUN_DIR [--to URL]', 'Send a run to an MLflow tracking server: the events a run could not deliver (its out_dir, or a tracking-spool-*.jsonl file), or a run of the local store (mlruns/<experiment_id>/<run_id>). What the server acknowledged is recorded, so pushing again sends only what is missing.', [
  ['--to URL', 'the server, http(s)://host:port (default: MLFLOW_TRACKING_URI)'],
  ['-h, --help', 'show this help'],
], 'Auth, TLS and retries follow MLflow\'s variables: MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_HTTP_REQUEST_*.');

/** `bonsai runs push`: exits 0 when everything was delivered, 1 when the server refused some events. */
export const runsPushCommand: Command = async (argv) => {
  const { values, positionals } = parse('runs push', argv, { to: { type: 'string' } });
  if (values.help) return (process.stdout.write(HELP), 0);
  if (positionals.length !== 1) return (process.stderr.write(`bonsai runs push: expected one RUN_DIR\n\n${HELP}`), 2);
  const url = values.to ?? process.env.MLFLOW_TRACKING_URI;
  if (!url || !/^https?:\/\//i.test(url)) {
    throw new BonsaiError(url ? `--to must be an MLflow server URL (http(s)://…), got "${url}"` : 'no server to push to', {
      hint: 'pass --to http://host:5000 or set MLFLOW_TRACKING_URI',
    });
  }
  const results = await pushRun(positionals[0]!, url, { warn: (l) => process.stderr.write(`${l}\n`) });
  let refused = 0;
  for (const r of results) {
    refused += r.refused;
    process.stdout.write(`${r.source}: run ${r.runId}: ${r.sent} events sent${r.refused ? `, ${r.refused} refused` : ''}${r.sent === 0 && !r.refused ? ' (already up to date)' : ''}\n`);
  }
  return refused ? 1 : 0;
};
