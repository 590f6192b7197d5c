import { loadJobRecipe, recipeJsonSchema } from '../recipe/index.ts';
import { parse, usage, type Command } from './args.ts';

const HELP = usage('bonsai recipe <validate FILE | schema>', 'Check recipes, or print their JSON Schema.', [
  ['validate FILE [--set PATH=VALUE]', 'report every error of a recipe at once, with file:line:col'],
  ['schema', 'print the JSON Schema; point yaml-language-server at it for completion'],
]);

export const recipeCommand: Command = async (argv) => {
  const { values, positionals } = parse('recipe', argv, { set: { type: 'string', multiple: true } });
  const [sub, file] = positionals;
  if (values.help || !sub) return (process.stdout.write(HELP), values.help ? 0 : 2);
  if (sub === 'schema') {
    process.stdout.write(`${JSON.stringify(recipeJsonSchema(), null, 2)}\n`);
    return 0;
  }
  if (sub === 'validate') {
    if (!file) return (process.stderr.write(`bonsai recipe validate: expected a FILE\n\n${HELP}`), 2);
    const r = loadJobRecipe(file, { overrides: values.set ?? [] });
    const what = r.job === 'edit' ? `job edit, ${r.edit.kind} on ${r.edit.targets.join(', ')}`
      : r.job === 'sae' ? `job sae, ${r.sae.steps} steps on ${r.sae.hook}`
      : r.trainer ? `${r.trainer.kind}, ${r.trainer.steps} steps` : `job ${r.job}, ${r.probes.length} probe${r.probes.length === 1 ? '' : 's'}`;
    process.stdout.write(`${file}: ok (run "${r.run.name}", ${what})\n`);
    return 0;
  }
  process.stderr.write(`bonsai recipe: unknown subcommand "${sub}"\n\n${HELP}`);
  return 2;
};
