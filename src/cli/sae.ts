import { loadSaeRecipe } from '../recipe/index.ts';
import { createTracker } from '../tracking/index.ts';
import { parse, threadsFlag, threadsOption, THREADS_HELP, usage, type Command } from './args.ts';
import { withThreads } from '../recipe/backend-schema.ts';

const HELP = usage('bonsai sae train RECIPE [options]', 'Train a TopK sparse autoencoder on one hook of the frozen model a `job: sae` recipe names; save it (with the model fingerprint and the hook) and print its metrics as JSON.', [
  ['train RECIPE', 'read sae.hook activations over sae.data, train, save to sae.out (default <out_dir>/sae)'],
  ['--set PATH=VALUE', 'override a recipe field (repeatable), e.g. --set sae.k=8'],
  THREADS_HELP,
  ['-h, --help', 'show this help'],
], 'Probes read the SAE with `features: sae` and `sae: DIR`. See docs/results/sae.md.');

export const saeCommand: Command = async (argv) => {
  const { values, positionals } = parse('sae', argv, { set: { type: 'string', multiple: true }, ...threadsOption });
  if (values.help) return (process.stdout.write(HELP), 0);
  const [verb, file] = positionals;
  if (verb !== 'train' || !file || positionals.length !== 2) return (process.stderr.write(`bonsai sae: expected "train RECIPE"\n\n${HELP}`), 2);
  const recipe = loadSaeRecipe(file, { overrides: values.set ?? [] });
  // Imported only now: a recipe with errors is reported without loading a tensor backend.
  const [tf, { initBackend }, { runSaeJob }] = await Promise.all([import('@tensorflow/tfjs'), import('../backend/index.ts'), import('../sae/job.ts')]);
  await initBackend(withThreads(recipe.backend, threadsFlag(values.threads)));
  const tracker = createTracker(recipe.tracking.uri);
  await tracker.startRun({ experiment: recipe.tracking.experiment, runName: `${recipe.run.name}-sae`, tags: { 'bonsai.command': 'sae train' } });
  let status: 'FINISHED' | 'FAILED' = 'FAILED';
  try {
    const r = runSaeJob(recipe, { tracker, log: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    status = 'FINISHED';
    return 0;
  } finally {
    await tracker.endRun(status);
    tf.disposeVariables();
  }
};
