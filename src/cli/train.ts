import { loadRecipe, type Recipe } from '../recipe/index.ts';
import type { RunSummary } from '../tracking/store/index.ts';
import { DEFAULT_TRACKING_URI, PARENT_RUN_ENV, resolveTrackingUri } from '../tracking/index.ts';
import { intFlag, parse, threadsFlag, threadsOption, THREADS_HELP, usage, type Command } from './args.ts';
import { withThreads } from '../recipe/backend-schema.ts';
import { createProgress } from './progress.ts';
import { openStore } from './runs.ts';
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
  const { train } = await import('../trainer/train.ts');

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
    if (s.kind === 'sft' && s.eval) {
      const below = s.eval.loss < s.unigramNats ? 'below' : 'NOT below';
      lines.push(`eval loss ${s.eval.loss.toFixed(4)} nats/token (perplexity ${s.eval.perplexity.toFixed(2)}), ${below} the unigram entropy ${s.unigramNats.toFixed(4)} nats/token`);
    }
    if (s.kind === 'sft' && s.evals) lines.push(...(await evalLines(recipe, s.evals, s.runId)));
    if (s.kind === 'rl' && s.eval) lines.push(`eval reward ${s.eval['eval/rewards/total/mean']!.toFixed(3)} (mean over the data.eval prompts), response length ${s.eval['eval/response_length']!.toFixed(1)} tokens`);
    if (s.checkpoint) lines.push(`checkpoint: ${s.checkpoint}`);
    // The store the run went to, as openTrackingRun picks it: MLFLOW_TRACKING_URI stands in for the default.
    const uri = recipe.tracking.uri === DEFAULT_TRACKING_URI ? resolveTrackingUri() : recipe.tracking.uri;
    if (uri.trim().toLowerCase() !== 'none') {
      lines.push(`tracking: run ${s.runId} in ${uri} (experiment "${recipe.tracking.experiment}")`);
      if (s.runId) lines.push(`compare: ${uiHint(uri, s.runId)}  (then open the URL it prints)`);
    }
    if (s.kind === 'sft' && s.sample !== undefined) lines.push('', 'sample:', s.sample);
    process.stdout.write(`${lines.join('\n')}\n`);
    return s.interrupted && interrupt.requested ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
};

/**
 * One line per recipe eval: this run's value and, for an eval with a `baseline`, the newest
 * finished run of that name in the same store and experiment that logged the same metric.
 * A store that cannot be read leaves the baseline out; it never fails the command.
 */
async function evalLines(recipe: Recipe, evals: Record<string, number>, runId: string): Promise<string[]> {
  const uri = recipe.tracking.uri === DEFAULT_TRACKING_URI ? resolveTrackingUri() : recipe.tracking.uri;
  const tracked = uri.trim().toLowerCase() !== 'none';
  const runs = tracked && recipe.evals?.some((e) => e.baseline) ? await listRuns(uri, recipe.tracking.experiment) : [];
  return (recipe.evals ?? []).map((e) => {
    const key = `eval/${e.name}/${e.kind}`;
    const value = evals[key];
    if (value === undefined) return `eval ${e.name}: not measured`;
    let line = `eval ${e.name}: ${e.kind === 'accuracy' ? 'accuracy' : `P(${JSON.stringify(e.text)})`} ${percent(value)} (${e.data.path})`;
    if (e.baseline) {
      const base = runs
        .filter((r) => r.name === e.baseline && r.status === 'FINISHED' && r.id !== runId && r.metrics[key])
        .sort((a, b) => (b.startTime ?? 0) - (a.startTime ?? 0))[0];
      if (!tracked) line += `; no store to find ${e.baseline} in (tracking is none)`;
      else if (base) line += `; ${e.baseline}: ${percent(base.metrics[key]!.value)} (run ${base.id.slice(0, 8)})`;
      else line += `; no finished ${e.baseline} run with this eval in ${uri} yet`;
    }
    return line;
  });
}

async function listRuns(uri: string, experiment: string): Promise<RunSummary[]> {
  try {
    return (await openStore(uri).list({ experiment })).runs;
  } catch {
    return [];
  }
}

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
