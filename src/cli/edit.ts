import { describeBackend, initBackend } from '../backend/index.ts';
import { runEdit } from '../gradients/kfac-job.ts';
import { loadEditRecipe } from '../recipe/index.ts';
import { table } from '../util/table.ts';
import { parse, threadsFlag, threadsOption, THREADS_HELP, usage, type Command } from './args.ts';
import { withThreads } from '../recipe/backend-schema.ts';

const HELP = usage('bonsai edit RECIPE [options]', 'Apply the weight edit a `job: edit` recipe describes (the K-FAC curvature edit); writes the edited model, its report and the curvature factors into run.out_dir.', [
  ['--set PATH=VALUE', 'override a recipe field (repeatable), e.g. --set edit.rho=0.5 or --set edit.choose_rho.max_loss_increase=0.01'],
  THREADS_HELP,
  ['-h, --help', 'show this help'],
], 'Reusing edit.factors skips the curvature pass, so trying several rho values is cheap. See docs/kfac-edit.md.');

export const editCommand: Command = async (argv) => {
  const { values, positionals } = parse('edit', argv, { set: { type: 'string', multiple: true }, ...threadsOption });
  if (values.help) return (process.stdout.write(HELP), 0);
  if (positionals.length !== 1) return (process.stderr.write(`bonsai edit: expected one RECIPE file\n\n${HELP}`), 2);
  const file = positionals[0]!;
  const recipe = loadEditRecipe(file, { overrides: values.set ?? [] });
  const backend = await initBackend(withThreads(recipe.backend, threadsFlag(values.threads)));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(describeBackend(backend));
  const r = runEdit(recipe, { file, log });
  const rows = [['target', 'rho', 'kept / components', 'mass kept', '‖ΔW‖/‖W‖'], ...r.targets.map((t) => [t.path, String(t.rho), `${t.kept} / ${t.components}`, t.massKept.toFixed(4), t.relativeChange.toFixed(4)])];
  const lines = [
    ...(r.choice ? [`rho chosen on the held-out split: ${r.choice.rho} (tried ${r.choice.tried.map((t) => `${t.rho}: ${t.loss.toFixed(4)}`).join(', ')}; unedited ${r.choice.baseLoss.toFixed(4)} nats/token)`] : []),
    table(rows),
    `edited model (${r.layout === 'hf' ? 'Hugging Face layout' : 'bonsai checkpoint'}): ${r.output}`,
    `report: ${r.report}`,
    `factors: ${r.factorsPath}${r.factorsReused ? ' (reused)' : ` (${r.tokens} tokens in ${r.seconds.collect.toFixed(1)} s)`}; eigen ${r.seconds.eigen.toFixed(1)} s, edit ${r.seconds.edit.toFixed(1)} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
};
