import { BonsaiError } from '../errors.ts';
import { usage, type Command } from './args.ts';
import { outOfMemoryError } from '../backend/oom.ts';

/**
 * Commands, each imported when it runs: `bonsai recipe validate` must not pay for (or
 * depend on) the tensor backend that `bonsai train` loads.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  train: async () => (await import('./train.ts')).trainCommand,
  sweep: async () => (await import('./sweep.ts')).sweepCommand,
  generate: async () => (await import('./generate.ts')).generateCommand,
  probe: async () => (await import('./probe.ts')).probeCommand,
  recipe: async () => (await import('./recipe.ts')).recipeCommand,
  runs: async () => (await import('./runs.ts')).makeRunsCommand((await import('./runs-push.ts')).runsPushCommand),
  ui: async () => (await import('./ui.ts')).uiCommand,
  directions: async () => (await import('./directions.ts')).directionsCommand,
  diff: async () => (await import('./diff.ts')).diffCommand,
  ray: async () => (await import('./ray.ts')).rayCommand,
  'serve-reward': async () => (await import('./serve-reward.ts')).serveRewardCommand,
  scrub: async () => (await import('./scrub.ts')).scrubCommand,
  edit: async () => (await import('./edit.ts')).editCommand,
  export: async () => (await import('./export.ts')).exportCommand,
  sae: async () => (await import('./sae.ts')).saeCommand,
};

const HELP = usage('bonsai <command> [options]', 'Training-time intentional design of neural networks.', [
  ['train RECIPE', 'train a model as a recipe describes'],
  ['sweep RECIPE --grid PATH=V1,V2 | status', 'train every point of a grid or random search under one MLflow parent run'],
  ['generate --checkpoint DIR --prompt TEXT', 'continue a prompt with a trained model'],
  ['probe train|sweep RECIPE', "train the recipe's probes on the frozen model; sweep scores every layer"],
  ['sae train RECIPE', 'train a TopK sparse autoencoder on one hook of the frozen model (probes read it with features: sae)'],
  ['recipe validate FILE', 'check a recipe and report every error at once'],
  ['recipe schema', "print the recipe's JSON Schema (for editor completion)"],
  ['runs list | show RUN | compare RUN…', 'tables of the runs in ./mlruns: params that differ, final metrics'],
  ['runs push RUN_DIR [--to URL]', 'send a run (or what it could not deliver) to an MLflow server'],
  ['ui [--store DIR] [--port N]', 'a page on 127.0.0.1 that overlays the curves of runs you pick'],
  ['directions --checkpoint DIR --hook H --method M --out F', 'concept directions for ablate / steer, with separation or variance explained'],
  ['diff A B [--data F] [--probe DIR] [--json OUT]', 'what a training run changed: weights per tensor/head/neuron, activation-difference lens, probe drift'],
  ['ray submit RECIPE | status | logs | stop | list', 'run a recipe as a job on a Ray cluster and watch it (docs/cluster.md)'],
  ['scrub --checkpoint DIR --probe DIR [FILE]', 'mask the tokens where a token-level probe fires (e.g. PII); print the masked text'],
  ['export --merge … --out DIR', 'a model with its LoRA adapters merged, in the Hugging Face layout'],
  ['serve-reward RECIPE [--port N]', "serve the recipe's rewards over HTTP (OpenRLHF /get_reward, /v1/rewards)"],
], 'Run `bonsai <command> --help` for a command\'s options.');

/**
 * The `bonsai` command. Returns the exit code. A BonsaiError is the user's to fix: it is
 * printed as a message (with its hint), never as a stack trace. Anything else is a bug
 * in bonsai and keeps its stack (set BONSAI_DEBUG=1 to see stacks for user errors too).
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write('bonsai 0.1.0\n');
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`bonsai: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await (await load())(rest);
  } catch (e) {
    return reportError(e, name);
  }
}

function reportError(e: unknown, command?: string): number {
  e = outOfMemoryError(e, undefined, command) ?? e; // a backend out of memory is the user's setting, not a bug
  if (e instanceof BonsaiError) {
    process.stderr.write(`error: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    if (process.env.BONSAI_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
  process.stderr.write(`bonsai: internal error (a bug; please report it):\n${e instanceof Error ? e.stack : String(e)}\n`);
  return 70;
}
