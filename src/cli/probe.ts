import { BonsaiError } from '../errors.ts';
import { recipeTokenizer } from '../models/init-kinds.ts';
import type { ProbeRecipe } from '../probes/recipe.ts';
import type { ProbeMetrics } from '../probes/metrics.ts';
import { loadAnyRecipe } from '../recipe/index.ts';
import type { AnyRecipe } from '../recipe/schema.ts';
import { createTracker } from '../tracking/index.ts';
import type { buildModel } from '../models/init-build.ts';
import { parse, threadsFlag, threadsOption, THREADS_HELP, usage, type Command } from './args.ts';
import { withThreads } from '../recipe/backend-schema.ts';

const HELP = usage('bonsai probe train|sweep RECIPE [options]', "Train the recipe's probes on the frozen copy of its model.", [
  ['train RECIPE', 'fit each probe with a `train` section; save to its checkpoint (default <out_dir>/probes/<name>)'],
  ['sweep RECIPE', "score each probe at every layer's version of its hook; print a table, best AUROC first"],
  ['--set PATH=VALUE', 'override a recipe field (repeatable)'],
  THREADS_HELP,
]);

const fmt = (m: ProbeMetrics) => [m.auroc, m.tpr_at_1fpr, m.f1, m.ece].map((v) => v.toFixed(3).padStart(7)).join(' ');
const HEAD = `${'probe'.padEnd(14)} ${'hook'.padEnd(28)}   auroc tpr@1%     f1    ece`;

/** Every layer's version of `hook` (blocks.N.x → blocks.0.x … blocks.L-1.x); non-block hooks sweep the residual stream. */
export function sweepHooks(hook: string, nLayers: number): string[] {
  const m = /^blocks\.\d+\.(.+)$/.exec(hook);
  const tail = m ? m[1]! : 'hook_resid_post';
  return Array.from({ length: nLayers }, (_, i) => `blocks.${i}.${tail}`);
}

export const probeCommand: Command = async (argv) => {
  const { values, positionals } = parse('probe', argv, { set: { type: 'string', multiple: true }, ...threadsOption });
  if (values.help) return (process.stdout.write(HELP), 0);
  const [verb, file] = positionals;
  if ((verb !== 'train' && verb !== 'sweep') || !file || positionals.length !== 2) return (process.stderr.write(`bonsai probe: expected "train RECIPE" or "sweep RECIPE"\n\n${HELP}`), 2);
  const recipe = loadAnyRecipe(file, { overrides: values.set ?? [] });
  const trainable = recipe.probes.filter((p) => p.train);
  if (trainable.length === 0) throw new BonsaiError(`${file}: no probe has a "train" section (probes[].train.data)`, { hint: 'add probes: [{ name, hook, train: { data: probes.jsonl } }]' });
  // Imported only now: a recipe with errors is reported without loading a tensor backend.
  const [tf, { initBackend }, { buildModel }, probeRecipes, probeIo] = await Promise.all([
    import('@tensorflow/tfjs'),
    import('../backend/index.ts'),
    import('../models/init-build.ts'),
    import('../probes/recipe.ts'),
    import('../probes/io.ts'),
  ]);
  const probes: ProbesModule = { ...probeRecipes, ...probeIo };
  await initBackend(withThreads(recipe.backend, threadsFlag(values.threads)));
  const tok = recipeTokenizer(recipe.model);
  const model = buildModel(recipe, tok);
  const frozen = model.frozenCopy();
  model.dispose();
  const tracker = createTracker(recipe.tracking.uri);
  await tracker.startRun({ experiment: recipe.tracking.experiment, runName: `${recipe.run.name}-probe-${verb}`, tags: { 'bonsai.command': `probe ${verb}` } });
  let status: 'FINISHED' | 'FAILED' | 'KILLED' = 'FAILED';
  const interrupt: Interrupt = { requested: false };
  const onSigint = () => {
    if (interrupt.requested) process.exit(130); // a second Ctrl-C means now
    interrupt.requested = true;
    process.stderr.write('interrupt: finishing this epoch; the probe keeps its best epoch so far, later probes are not trained (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const rows = verb === 'train' ? await trainAll(probes, recipe, trainable, frozen, tok, tracker, interrupt) : await sweepAll(probes, trainable, frozen, tok, tracker, interrupt);
    process.stdout.write(`${HEAD}\n${rows.join('\n')}\n`);
    status = interrupt.requested ? 'KILLED' : 'FINISHED';
    return interrupt.requested ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
    await tracker.endRun(status);
    frozen.dispose();
    tf.disposeVariables();
  }
};

type Tok = ReturnType<typeof recipeTokenizer>;
type ProbesModule = typeof import('../probes/recipe.ts') & typeof import('../probes/io.ts');
type Trk = ReturnType<typeof createTracker>;
type Interrupt = { requested: boolean };

async function trainAll({ probeDir, saveProbe, trainRecipeProbe }: ProbesModule, recipe: AnyRecipe, probes: ProbeRecipe[], frozen: ReturnType<typeof buildModel>, tok: Tok, tracker: Trk, interrupt: Interrupt): Promise<string[]> {
  const rows: string[] = [];
  for (const p of probes) {
    if (interrupt.requested) break;
    // Per-epoch probes/<name>/train_loss and val_loss go to the tracker through the loop driver.
    const probe = await trainRecipeProbe(p, frozen, tok, p.hook, { tracker, interrupt });
    const dir = probeDir(recipe, p);
    saveProbe(dir, probe);
    tracker.logMetrics(0, Object.fromEntries(Object.entries(probe.meta.metrics).map(([k, v]) => [`probes/${p.name}/${k}`, v])));
    rows.push(`${p.name.padEnd(14)} ${p.hook.padEnd(28)} ${fmt(probe.meta.metrics)}   saved: ${dir}${interrupt.requested ? ' (interrupted: best epoch so far)' : ''}`);
    probe.dispose();
  }
  return rows;
}

async function sweepAll({ trainRecipeProbe }: ProbesModule, probes: ProbeRecipe[], frozen: ReturnType<typeof buildModel>, tok: Tok, tracker: Trk, interrupt: Interrupt): Promise<string[]> {
  const rows: Array<{ auroc: number; line: string }> = [];
  for (const p of probes) {
    for (const [layer, hook] of sweepHooks(p.hook, frozen.config.nLayers).entries()) {
      if (interrupt.requested) break;
      // An SAE reads one hook: the other layers have no latents to probe. The logit lens reads
      // the output head's input only.
      if (p.features === 'sae' && hook !== p.hook) {
        process.stderr.write(`probe "${p.name}": features: sae reads the SAE at ${p.sae} (${p.hook}); skipping ${hook}\n`);
        continue;
      }
      if (p.features === 'logit_lens' && hook !== p.hook) {
        process.stderr.write(`probe "${p.name}": features: logit_lens reads ${p.hook} only; skipping ${hook}\n`);
        continue;
      }
      // No per-epoch tracking here: every layer's fit has the same probe name.
      const probe = await trainRecipeProbe(p, frozen, tok, hook, { interrupt });
      const m = probe.meta.metrics;
      tracker.logMetrics(layer, { [`sweep/${p.name}/auroc`]: m.auroc, [`sweep/${p.name}/tpr_at_1fpr`]: m.tpr_at_1fpr });
      rows.push({ auroc: m.auroc, line: `${p.name.padEnd(14)} ${hook.padEnd(28)} ${fmt(m)}` });
      probe.dispose();
    }
  }
  return rows.sort((a, b) => b.auroc - a.auroc).map((r) => r.line);
}
