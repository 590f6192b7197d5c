/**
 * The optional `sweep:` section: which recipe fields `bonsai sweep` varies, as a grid (the
 * Cartesian product of value lists) and/or seeded random samples. `bonsai train` ignores
 * it and trains the base recipe. Each path is checked against the recipe schema exactly as
 * a `--set` path is, so a misspelt field is reported with the recipe's other errors (at its
 * line, with did-you-mean) before any point runs.
 */
import { z } from 'zod';
import { dotted } from './issues.ts';
import { parsePath } from './overrides.ts';
import { nonNegativeInt, positiveInt } from '../registry/fields.ts';
import { suggestion } from '../registry/suggest.ts';
import { schemaAt } from './walk.ts';
import type { PathSegment } from '../registry/kinds.ts';

/** Fields a sweep sets itself for every point (name, folder), or that make no sense to vary. */
const RESERVED = ['run.name', 'run.out_dir', 'sweep'];

/**
 * Why `path` cannot be swept, or undefined when it can. `data` picks union members (the
 * trainer's kind) as `--set` does; without it every member's fields are allowed.
 */
export function sweepPathProblem(root: z.ZodType, text: string, data?: unknown): { detail: string; path: PathSegment[] } | undefined {
  const path = parsePath(text.trim());
  if (!path) return { detail: 'not a recipe path (expected e.g. trainer.optimizer.lr or gradients[0].max_norm)', path: [] };
  const name = dotted(path);
  const reserved = RESERVED.find((r) => name === r || name.startsWith(`${r}.`));
  if (reserved) return { detail: `${reserved} cannot be swept: the sweep sets each point's run name and out_dir itself`, path };
  const step = schemaAt(root, path, data);
  if (step.ok) return undefined;
  const { at, segment, keys } = step;
  return { detail: typeof segment === 'number' ? 'no such list item' : `unknown key; ${suggestion(String(segment), keys)}`, path: [...at, segment] };
}

const range = <T extends z.ZodNumber>(n: () => T) =>
  z.tuple([n(), n()]).refine(([lo, hi]) => lo! <= hi!, { message: 'expected [low, high] with low <= high' });

/** One random-search dimension: a list to choose from, or a numeric range. */
const distributionSchema = z
  .union([
    z.strictObject({ choice: z.array(z.unknown()).min(1).describe('Pick one of these values, each equally likely.') }),
    z.strictObject({ uniform: range(() => z.number()).describe('A float uniform in [low, high].') }),
    z.strictObject({ log_uniform: range(() => z.number().positive()).describe('A float whose log is uniform in [log low, log high] (learning rates).') }),
    z.strictObject({ int_uniform: range(() => z.int()).describe('An integer uniform in [low, high], both included.') }),
  ])
  .describe('How one field is sampled: {choice: [...]}, {uniform: [a, b]}, {log_uniform: [a, b]} or {int_uniform: [a, b]}.');

/**
 * The `sweep` section. `root` is the whole recipe schema, given lazily because it contains
 * this section; it is only walked when a recipe is validated.
 */
export function sweepSchemaOf(root: () => z.ZodType) {
  return z
    .strictObject({
      name: z.string().min(1).optional().describe("Name of the sweep's parent run. Default: <run.name>-sweep."),
      grid: z
        .record(z.string(), z.array(z.unknown()).min(1))
        .default({})
        .describe('Recipe path → values; every combination is one point, e.g. {"trainer.optimizer.lr": [1e-3, 3e-4]}.'),
      random: z
        .strictObject({
          samples: positiveInt().describe('How many random points (each combined with every grid point).'),
          seed: nonNegativeInt().default(0).describe('Seed of the sampler: the same seed draws the same points.'),
          space: z.record(z.string(), distributionSchema).describe('Recipe path → how its value is drawn.'),
        })
        .optional()
        .describe('Random search: seeded samples of the fields in space.'),
      parallel: positiveInt().default(1).describe('Points run at once by a local sweep (each is a separate process).'),
    })
    .superRefine((s, ctx) => {
      const space = Object.keys(s.random?.space ?? {});
      if (Object.keys(s.grid).length === 0 && space.length === 0) {
        ctx.addIssue({ code: 'custom', path: [], message: 'a sweep needs a grid or a random section with at least one field' });
      }
      const check = (section: string[], key: string) => {
        const problem = sweepPathProblem(root(), key);
        if (!problem) return;
        // Name the failing part only when it is not the whole key (`trainer.optimizerr` in `trainer.optimizerr.lr`).
        const part = dotted(problem.path);
        const message = part && part !== dotted(parsePath(key.trim()) ?? []) ? `${part}: ${problem.detail}` : problem.detail;
        ctx.addIssue({ code: 'custom', path: [...section, key], message });
      };
      for (const key of Object.keys(s.grid)) check(['grid'], key);
      for (const key of space) {
        check(['random', 'space'], key);
        if (Object.hasOwn(s.grid, key)) ctx.addIssue({ code: 'custom', path: ['random', 'space', key], message: 'is also in grid; vary a field one way' });
      }
    })
    .optional()
    .describe('A sweep over this recipe (`bonsai sweep`): grid and/or random points, one run each under one parent run. Ignored by `bonsai train`.');
}

/** One random-search dimension. */
export type Distribution = z.output<typeof distributionSchema>;
