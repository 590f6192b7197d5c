import { BonsaiError } from '../errors.ts';
import { loadRecipe } from '../recipe/index.ts';
import { TOKEN_ENV } from '../server/auth.ts';
import { startRewardServer } from '../server/server.ts';
import { isLoopback } from '../ui/server.ts';
import { intFlag, parse, usage, type Command } from './args.ts';

/** Defaults: well inside OpenRLHF's 180 s client timeout, and batches a 2-core CPU can turn around quickly. */
const SERVE_DEFAULTS = { port: 8470, maxBodyBytes: 8 << 20, maxBatch: 1024, batchSize: 32, maxWaitMs: 5, timeoutMs: 60_000 };

const D = SERVE_DEFAULTS;
const HELP = usage('bonsai serve-reward RECIPE [options]', "Serve the recipe's rewards (probes on the frozen copy included) over HTTP.", [
  ['--port N', `port (default ${D.port}; 0 picks a free one, printed on stdout)`],
  ['--host H', 'address (default 127.0.0.1; any other is reachable from the network: use a token)'],
  ['--token T', `require "Authorization: Bearer T" (default: $${TOKEN_ENV}; prefer the variable, argv is visible to ps)`],
  ['--max-body-bytes N', `largest request body (default ${D.maxBodyBytes}); more is 413`],
  ['--max-batch N', `most sequences per request (default ${D.maxBatch}); more is 422`],
  ['--max-seq-len N', "most tokens per sequence, prompt + completion (default and ceiling: the model's n_ctx); more is 422"],
  ['--batch-size N', `most sequences per frozen pass (default ${D.batchSize})`],
  ['--max-wait-ms N', `how long a sequence waits for others to share its pass (default ${D.maxWaitMs})`],
  ['--timeout-ms N', `answer 503 to a request not scored within this (408 if its body is still arriving; default ${D.timeoutMs})`],
  ['--set PATH=VALUE', 'override a recipe field (repeatable), e.g. --set backend=cpu'],
], 'Endpoints: POST /get_reward (OpenRLHF), POST /v1/rewards, GET /v1/info, GET /health. SIGTERM or Ctrl-C drains and exits 0. See docs/reward-server.md.');

const positive = (flag: string, v: string | undefined, dflt: number): number => {
  const n = intFlag(flag, v) ?? dflt;
  if (n < 1) throw new BonsaiError(`${flag} must be at least 1, got ${n}`);
  return n;
};

/** `bonsai serve-reward RECIPE`: serves until SIGTERM/SIGINT, lets requests in flight finish, exits 0. */
export const serveRewardCommand: Command = async (argv) => {
  const { values: v, positionals } = parse('serve-reward', argv, {
    port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' },
    'max-body-bytes': { type: 'string' }, 'max-batch': { type: 'string' }, 'max-seq-len': { type: 'string' },
    'batch-size': { type: 'string' }, 'max-wait-ms': { type: 'string' }, 'timeout-ms': { type: 'string' },
    set: { type: 'string', multiple: true },
  });
  if (v.help) return (process.stdout.write(HELP), 0);
  if (positionals.length !== 1) return (process.stderr.write(`bonsai serve-reward: expected one RECIPE\n\n${HELP}`), 2);
  const file = positionals[0]!;
  const host = v.host ?? '127.0.0.1';
  const token = v.token ?? process.env[TOKEN_ENV] ?? undefined;
  const limits = {
    maxBodyBytes: positive('--max-body-bytes', v['max-body-bytes'], D.maxBodyBytes),
    maxBatch: positive('--max-batch', v['max-batch'], D.maxBatch),
    maxSeqLen: positive('--max-seq-len', v['max-seq-len'], Number.MAX_SAFE_INTEGER),
    timeoutMs: positive('--timeout-ms', v['timeout-ms'], D.timeoutMs),
  };
  const batchSize = positive('--batch-size', v['batch-size'], D.batchSize);
  const maxWaitMs = intFlag('--max-wait-ms', v['max-wait-ms']) ?? D.maxWaitMs;
  const port = intFlag('--port', v.port) ?? D.port;

  const recipe = loadRecipe(file, { overrides: v.set ?? [] });
  // Imported only now: a recipe with errors is reported without loading a tensor backend.
  const [{ describeBackend, initBackend }, { RewardScorer }] = await Promise.all([import('../backend/index.ts'), import('../server/scorer.ts')]);
  const backend = await initBackend(recipe.backend);
  process.stderr.write(`${describeBackend(backend)}\n`);
  const scorer = await RewardScorer.fromRecipe(recipe, file);
  if (limits.maxSeqLen !== Number.MAX_SAFE_INTEGER && limits.maxSeqLen > scorer.nCtx) {
    scorer.dispose();
    throw new BonsaiError(`--max-seq-len ${limits.maxSeqLen} exceeds the model's context (n_ctx ${scorer.nCtx})`, { hint: `leave it out to use ${scorer.nCtx}` });
  }
  if (!isLoopback(host)) {
    process.stderr.write(`warning: serving on ${host}, reachable from other machines${token ? '' : ' by anyone, with no token (set --token or $' + TOKEN_ENV + ')'}; traffic is plain HTTP\n`);
  }
  // Listen for the stop signals before announcing the URL: whoever reads it may stop us at once.
  let signals = 0;
  const stopped = new Promise<string>((resolve) => {
    const on = (sig: string) => {
      if (++signals > 1) process.exit(130); // a second signal: stop waiting for requests in flight
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  const srv = await startRewardServer(scorer, { host, port, token, batchSize, maxWaitMs, ...limits });
  const info = scorer.info();
  process.stderr.write(`model: ${scorer.source} (${info.fingerprint as string}); rewards: ${scorer.rewards.map((r) => `${r.name}×${r.weight}`).join(', ')}; ${token ? 'bearer token required' : 'no token'}\n`);
  process.stdout.write(`bonsai serve-reward: listening on ${srv.url}\n`);
  const sig = await stopped;
  process.stderr.write(`${sig}: finishing requests in flight…\n`);
  await srv.close();
  scorer.dispose();
  process.stderr.write(`stopped after ${scorer.stats.passes} frozen passes, ${scorer.stats.sequences} sequences\n`);
  return 0;
};
