import { PARENT_RUN_ENV } from '../distributed/sweep/child-env.ts';
import { loadRecipe } from '../recipe/index.ts';
import { DEFAULT_TRACKING_URI, resolveTrackingUri } from '../tracking/index.ts';
import { train } from '../trainer/run.ts';
import { intFlag, parse, threadsFlag, threadsOption, THREADS_HELP, usage, type Command } from './args.ts';
import { withThreads } from '../recipe/backend-schema.ts';
import { createProgress } from './progress.ts';
import { uiHint } from './ui.ts';

const HELP = usage('bonsai train RECIPE [options]', 'Train a model as RECIPE describes; the run is logged to MLflow\'s layout.', [
  ['--set PATH=VALUE', 'override a recipe field (repeatable), e.g. --set trainer.steps=50'],
  ['--resume', "continue from the newest checkpoint in the run's out_dir"],
  ['--stop-after N', 'stop after step N with a checkpoint (resume later with --resume)'],
  THREADS_HELP,
  ['-h, --help', 'show this help'],
], 'Ctrl-C saves a checkpoint and stops cleanly; run again with --resume to continue.');

export const trainCommand: Command = async (argv) => {
  const { values, positionals } = parse('train', argv, {
    set: { type: 'string', multiple: true },
    resume: { type: 'boolean' },
    'stop-after': { type: 'string' },
    ...threadsOption,
  });
  if (values.help) return (process.stdout.write(HELP), 0);
  if (positionals.length !== 1) return (process.stderr.write(`bonsai train: expected one RECIPE file\n\n${HELP}`), 2);
  const file = positionals[0]!;
  const threads = threadsFlag(values.threads);
  const loaded = loadRecipe(file, { overrides: values.set ?? [] });
  const recipe = { ...loaded, backend: withThreads(loaded.backend, threads) };
  const stopAfter = intFlag('--stop-after', values['stop-after']);
  // Imported only now: a recipe with errors is reported without loading a tensor backend.
  const { train } = await import('../trainer/run.ts');

  const progress = createProgress({ total: recipe.trainer.steps, logEvery: recipe.trainer.log_every });
  // Sweep points run this command on the sweep's own recipe (with BONSAI_PARENT_RUN_ID set); a user running it by hand gets the hint.
  if (recipe.sweep && !process.env[PARENT_RUN_ENV]) progress.log(`note: ${file} has a sweep: section; this trains the base recipe once (\`bonsai sweep ${file}\` trains every point)`);
  const interrupt = { requested: false };
  const onSigint = () => {
    if (interrupt.requested) process.exit(130); // a second Ctrl-C means now
    interrupt.requested = true;
    progress.log('interrupt: finishing this step, saving a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    const s = await train(recipe, {
      recipeFile: file,
      resume: values.resume,
      stopAfter,
      interrupt,
      onLog: (line) => progress.log(line),
      onStep: (step, _total, m) => progress.update(step, { loss: m.loss, lr: m.lr, tokensPerSec: m.tokensPerSec }),
    });
    progress.done();
    const lines = [
      `${s.interrupted ? 'stopped' : 'finished'} at step ${s.step} in ${s.seconds.toFixed(1)} s on ${s.backend.name}; train loss ${s.finalLoss.toFixed(4)}`,
    ];
    if (s.eval) {
      const below = s.eval.loss < s.unigramNats ? 'below' : 'NOT below';
      lines.push(`eval loss ${s.eval.loss.toFixed(4)} nats/token (perplexity ${s.eval.perplexity.toFixed(2)}), ${below} the unigram entropy ${s.unigramNats.toFixed(4)} nats/token`);
    }
    if (s.checkpoint) lines.push(`checkpoint: ${s.checkpoint}`);
    lines.push(`tracking: run ${s.runId} in ${recipe.tracking.uri} (experiment "${recipe.tracking.experiment}")`);
    // The store the run went to, as trackedRun picks it: MLFLOW_TRACKING_URI stands in for the default.
    const uri = recipe.tracking.uri === DEFAULT_TRACKING_URI ? resolveTrackingUri() : recipe.tracking.uri;
    if (uri.trim().toLowerCase() !== 'none' && s.runId) lines.push(`compare: ${uiHint(uri, s.runId)}  (then open the URL it prints)`);
    if (s.sample !== undefined) lines.push('', 'sample:', s.sample);
    process.stdout.write(`${lines.join('\n')}\n`);
    return s.interrupted && interrupt.requested ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
};
