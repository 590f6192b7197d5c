/**
 * Reading a recipe: YAML text to a validated, fully-defaulted `Recipe`, or one
 * `BonsaiErrors` listing every problem with its `file:line:col` and dotted path. Users fix
 * a recipe in one pass instead of one error per run, so nothing here stops at the first.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { BonsaiError, BonsaiErrors } from '../errors.ts';
import { checkRecipe, salvageSections } from './check.ts';
import { describeValue, explain, RecipeIssue, type Finding } from './issues.ts';
import { isOwnRecipeJob, jobKinds } from './jobs.ts';
import { ownRecipeSchemas } from './job-schemas.ts';
import type { SaeRecipe } from './sae-schema.ts';
import { placer } from './locate.ts';
import { checkEditRecipe, type EditRecipe } from './edit-schema.ts';
import { applyOverrides } from './overrides.ts';
import { recipeSchemaFor, recipeSections, type AnyRecipe, type Recipe } from './schema.ts';
import { MAX_ALIASES, parseYaml, refusedTags, tagRefusal, toPlainData, type Position } from './yaml.ts';

/** Options for loading a recipe. */
export interface LoadOptions {
  /** `path=value` strings from `--set`, applied in order before validation. */
  overrides?: readonly string[];
}

/**
 * Read and validate the training recipe (job sft or rl) at `file`, relative to the working
 * directory. A recipe of another job is refused, naming the command that runs it.
 */
export function loadRecipe(file: string, opts: LoadOptions = {}): Recipe {
  return trainingRecipe(loadAnyRecipe(file, opts), file);
}

/** Read and validate a recipe of any job at `file`; narrow on `job`. */
export function loadAnyRecipe(file: string, opts: LoadOptions = {}): AnyRecipe {
  return parseAnyRecipe(readRecipeText(file), file, opts);
}

function readRecipeText(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(cause);
    throw new BonsaiError(`cannot read recipe: ${why}`, { where: file, cause });
  }
  return text;
}

/** Read and validate a recipe of any job in the job table, edit and sae recipes included (`bonsai recipe validate`). */
export function loadJobRecipe(file: string, opts: LoadOptions = {}): AnyRecipe | EditRecipe | SaeRecipe {
  const text = readRecipeText(file);
  const job = writtenJob(text);
  if (!isOwnRecipeJob(job)) return parseAnyRecipe(text, file, opts);
  if (job === 'edit') return parseEditRecipe(text, file, opts); // with its held-out checks
  return parseWithSchema(ownRecipeSchemas[job](basename(file, extname(file))), text, file, opts) as EditRecipe | SaeRecipe;
}

/** The `job` recipe `text` names, as written (undefined when it names none or does not parse). */
function writtenJob(text: string): unknown {
  return parseYaml(text).doc.get('job');
}

/** `recipe` as a training recipe, or an error naming the command that runs its job. */
export function trainingRecipe(recipe: AnyRecipe, file: string): Recipe {
  if (recipe.trainer !== undefined) return recipe;
  const job = jobKinds[recipe.job];
  throw new BonsaiError(`this is a job: ${recipe.job} recipe (it has no trainer); run it with \`${job.command} ${file}\``, { where: file });
}

/**
 * Validate recipe `text`. `file` names it in errors and gives the default run name; it
 * is not read, so this also serves recipes that come from elsewhere (tests, an API call).
 */
export function parseRecipe(text: string, file: string, opts: LoadOptions = {}): Recipe {
  return trainingRecipe(parseAnyRecipe(text, file, opts), file);
}

/**
 * Validate recipe `text` of any job: the schema, then every component's check against the
 * model's config (recipe/check.ts). Every problem is reported at once; no backend is loaded.
 */
export function parseAnyRecipe(text: string, file: string, opts: LoadOptions = {}): AnyRecipe {
  const name = basename(file, extname(file));
  const job = writtenJob(text);
  if (isOwnRecipeJob(job)) {
    throw new BonsaiError(`this is a job: ${job} recipe (${jobKinds[job].describe}); run it with \`${jobKinds[job].command} ${file}\``, { where: file });
  }
  return parseWithSchema(recipeSchemaFor(name), text, file, opts, (value, data) => {
    const found: Finding[] = [];
    checkRecipe(value ?? salvageSections(data, recipeSections(name)), (path, detail) => found.push({ path: [...path], detail }), data);
    return found;
  });
}

/** Read and validate the `job: edit` recipe at `file` (run by `bonsai edit`). */
export function loadEditRecipe(file: string, opts: LoadOptions = {}): EditRecipe {
  return parseEditRecipe(readRecipeText(file), file, opts);
}

/** Validate `job: edit` recipe `text` (see parseRecipe). */
export function parseEditRecipe(text: string, file: string, opts: LoadOptions = {}): EditRecipe {
  return parseWithSchema(ownRecipeSchemas.edit(basename(file, extname(file))), text, file, opts, (value) => checkEditRecipe(value));
}

/** Read and validate the `job: sae` recipe at `file` (run by `bonsai sae train`). */
export function loadSaeRecipe(file: string, opts: LoadOptions = {}): SaeRecipe {
  return parseSaeRecipe(readRecipeText(file), file, opts);
}

/** Validate `job: sae` recipe `text`; `file` names it in errors and gives the default run name. */
export function parseSaeRecipe(text: string, file: string, opts: LoadOptions = {}): SaeRecipe {
  return parseWithSchema(ownRecipeSchemas.sae(basename(file, extname(file))), text, file, opts);
}

/**
 * Parse and validate against `schema`, then run `check` (on the parsed value, or on the raw
 * data when the schema failed, so semantic errors are not hidden by type errors); every
 * problem is located and reported at once. Shared by every recipe job.
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S, text: string, file: string, opts: LoadOptions,
  check?: (value: z.output<S> | undefined, data: Record<string, unknown>) => Finding[],
): z.output<S> {
  const sets = opts.overrides ?? [];
  const { doc, lines } = parseYaml(text);
  const at = (pos: Position) => ({ where: `${file}:${pos.line}:${pos.col}`, ...pos });
  const issues = doc.errors.map(
    (e) => new RecipeIssue(`invalid YAML: ${e.message}`, { ...at(lines.linePos(e.pos[0])), path: [] }),
  );
  for (const t of refusedTags(doc, lines)) {
    issues.push(new RecipeIssue(tagRefusal(t.tag), { ...at(t.pos), path: t.path }));
  }
  // A document with syntax errors has no reliable shape; validating it would only add noise.
  const data = issues.length === 0 ? recipeData(doc, file) : undefined;
  if (data instanceof RecipeIssue) {
    issues.push(data);
  } else if (data) {
    const { applied, errors } = applyOverrides(data, sets, schema);
    const result = schema.safeParse(data);
    const found = check?.(result.success ? result.data : undefined, data) ?? [];
    if (result.success && errors.length === 0 && found.length === 0) return result.data;
    const place = placer(file, doc, lines, applied);
    for (const issue of result.error?.issues ?? []) {
      for (const f of explain(issue, data, schema)) issues.push(new RecipeIssue(f.detail, place(f.path)));
    }
    for (const f of found) issues.push(new RecipeIssue(f.detail, place(f.path)));
    issues.push(...errors);
  }
  const title = `${file}: recipe has ${issues.length} error${issues.length === 1 ? '' : 's'}`;
  throw new BonsaiErrors(title, sortByPlace(issues, sets));
}

/** The document as a plain mapping, or why it cannot be one. */
function recipeData(doc: Document, file: string): Record<string, unknown> | RecipeIssue {
  const plain = toPlainData(doc);
  if (!plain) {
    return new RecipeIssue(`aliases expand past the limit (${MAX_ALIASES}); is this an alias bomb?`, { where: file, path: [] });
  }
  const data = plain.data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  const got = data === null || data === undefined ? 'an empty document' : describeValue(data);
  const detail = `a recipe must be a YAML mapping of sections (run:, model:, data:, ...), got ${got}`;
  return new RecipeIssue(detail, { where: `${file}:1:1`, path: [], line: 1, col: 1 });
}

/** File errors by line and column, then `--set` errors in the order the flags were given. */
function sortByPlace(issues: RecipeIssue[], sets: readonly string[]): RecipeIssue[] {
  const key = (i: RecipeIssue): [number, number] =>
    i.line !== undefined ? [i.line, i.col ?? 0] : [Infinity, sets.indexOf(i.where?.replace(/^--set /, '') ?? '')];
  return issues
    .map((issue, n) => ({ issue, n, k: key(issue) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1] || a.n - b.n)
    .map((x) => x.issue);
}
