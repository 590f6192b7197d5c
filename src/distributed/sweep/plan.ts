/**
 * From a recipe file and the command line to a checked sweep plan: the base recipe, the
 * spec (its `sweep:` section with `--grid`/`--random` merged in), every point with its run
 * name and out_dir, and the sweep id. Every point's recipe is validated here, so a bad
 * path or value is reported, naming the point, before anything runs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { BonsaiError, BonsaiErrors } from '../../errors.ts';
import { dotted, RecipeIssue } from '../../recipe/issues.ts';
import { loadRecipe, parseRecipe, recipeSchemaFor, type Recipe } from '../../recipe/index.ts';
import { parsePath, parseValue } from '../../recipe/overrides.ts';
import { sweepPathProblem } from '../../recipe/sweep-schema.ts';
import { sweepPoints, yamlText, type SweepPoint, type SweepSpec } from './points.ts';

/** What the command line adds to (or changes in) the recipe's `sweep:` section. */
export interface SweepFlags {
  /** `--set` overrides of the base recipe, passed on to every point. */
  sets?: string[];
  /** `--grid path=v1,v2` strings. */
  grids?: string[];
  /** `--random N`: sample count (the space comes from the recipe). */
  samples?: number;
  /** `--seed S`: the random sampler's seed. */
  seed?: number;
  /** `--parallel N`. */
  parallel?: number;
}

/** A point ready to run: its values plus the name, folder and `--set`s of its run. */
export interface PlannedPoint extends SweepPoint {
  runName: string;
  outDir: string;
  /** Every `--set` its `bonsai train` gets: the base's, the point's values, name and out_dir. */
  trainSets: string[];
}

/** A checked sweep. */
export interface SweepPlan {
  file: string;
  base: Recipe;
  spec: SweepSpec;
  /** Stable hash of the base recipe and the points: the `bonsai.sweep.id` tag. */
  id: string;
  /** The parent run's name. */
  name: string;
  points: PlannedPoint[];
}

/** Splits `v1,v2` at commas outside brackets, braces and quotes (`[0.9,0.95],[0.9,0.99]` is two values). */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim());
}

/** The spec: the recipe's section, then the flags (a `--grid` path replaces the same path's list). */
function mergeSpec(recipe: Recipe, flags: SweepFlags, file: string, issues: RecipeIssue[]): SweepSpec {
  const schema = recipeSchemaFor(basename(file, extname(file)));
  const section = recipe.sweep;
  const canonical = (key: string) => dotted(parsePath(key.trim()) ?? [key]);
  const grid: Record<string, unknown[]> = {};
  for (const [key, values] of Object.entries(section?.grid ?? {})) grid[canonical(key)] = values;
  const space = Object.fromEntries(Object.entries(section?.random?.space ?? {}).map(([k, d]) => [canonical(k), d]));
  for (const text of flags.grids ?? []) {
    const where = `--grid ${text}`;
    const eq = text.indexOf('=');
    const problem = eq > 0 ? sweepPathProblem(schema, text.slice(0, eq), recipe) : { detail: 'expected path=v1,v2, e.g. --grid trainer.optimizer.lr=1e-3,3e-4', path: [] };
    if (problem) {
      issues.push(new RecipeIssue(problem.detail, { where, path: problem.path }));
      continue;
    }
    const path = canonical(text.slice(0, eq));
    const values: unknown[] = [];
    for (const v of splitValues(text.slice(eq + 1))) {
      const parsed = v === '' ? { error: 'empty value (two commas in a row, or one at the end?)' } : parseValue(v);
      if ('error' in parsed) issues.push(new RecipeIssue(`${JSON.stringify(v)}: ${parsed.error}`, { where, path: parsePath(path)! }));
      else values.push(parsed.value);
    }
    if (Object.hasOwn(space, path)) issues.push(new RecipeIssue('is also in sweep.random.space; vary a field one way', { where, path: parsePath(path)! }));
    grid[path] = values;
  }
  let random = section?.random ? { ...section.random, space } : undefined;
  if ((flags.samples !== undefined || flags.seed !== undefined) && !random) {
    throw new BonsaiError('--random/--seed need a sweep.random.space in the recipe: it says what to sample', {
      hint: 'add e.g. sweep: { random: { samples: 8, space: { trainer.optimizer.lr: { log_uniform: [1e-4, 1e-2] } } } }',
    });
  }
  if (random) random = { ...random, samples: flags.samples ?? random.samples, seed: flags.seed ?? random.seed };
  if (Object.keys(grid).length === 0 && !random && issues.length === 0) {
    throw new BonsaiError(`${file}: nothing to sweep`, { hint: 'give --grid path=v1,v2 (repeatable) or add a sweep: section to the recipe' });
  }
  return { name: section?.name, grid, random, parallel: flags.parallel ?? section?.parallel ?? 1 };
}

/** sha256 of the base recipe (minus `sweep` and `ray`, which say how, not what) and the point keys. */
export function sweepId(base: Recipe, points: SweepPoint[]): string {
  const { sweep: _sweep, ray: _ray, ...what } = base;
  const keys = points.map((p) => p.key).sort();
  return createHash('sha256').update(JSON.stringify({ recipe: what, points: keys })).digest('hex').slice(0, 12);
}

/** A point's folder name: its index (sorts, and stays unique) and its label, file-system safe. */
function folderName(p: SweepPoint, width: number): string {
  return `${String(p.index).padStart(width, '0')}-${p.label.replace(/[^A-Za-z0-9._=,+-]/g, '_').slice(0, 100)}`;
}

/**
 * Loads `file` with the flags into a plan, validating the base recipe, every swept path
 * and every point's full recipe. All problems are thrown together, each naming its point.
 */
export function planSweep(file: string, flags: SweepFlags = {}): SweepPlan {
  const sets = flags.sets ?? [];
  const base = loadRecipe(file, { overrides: sets });
  const issues: RecipeIssue[] = [];
  const spec = mergeSpec(base, flags, file, issues);
  if (issues.length) throw new BonsaiErrors(`${file}: sweep has ${issues.length} error${issues.length === 1 ? '' : 's'}`, issues);
  const points = sweepPoints(spec);
  const id = sweepId(base, points);
  const width = String(points.length - 1).length;
  const text = readFileSync(file, 'utf8');
  const bad: BonsaiError[] = [];
  let badPoints = 0;
  const planned = points.map((p): PlannedPoint => {
    const runName = `${base.run.name}-${p.label}`;
    const outDir = join(base.run.out_dir, `sweep-${id}`, folderName(p, width));
    const trainSets = [...sets, ...p.sets, `run.name=${yamlText(runName)}`, `run.out_dir=${yamlText(outDir)}`];
    try {
      parseRecipe(text, file, { overrides: trainSets });
    } catch (e) {
      if (!(e instanceof BonsaiError)) throw e;
      const found = e instanceof BonsaiErrors ? e.errors : [e];
      badPoints++;
      for (const err of found) bad.push(new BonsaiError(`point ${p.index} (${p.label}): ${err.message}`));
    }
    return { ...p, runName, outDir, trainSets };
  });
  if (bad.length) throw new BonsaiErrors(`${file}: ${badPoints} of ${points.length} sweep points are invalid`, bad);
  return { file, base, spec, id, name: spec.name ?? `${base.run.name}-sweep`, points: planned };
}
