/**
 * Field builders shared by the recipe sections. Paths are checked for existence here, in
 * the schema, so a typo in a data path is reported with every other recipe error before
 * any tensor is made, not minutes into a run.
 */
import { statSync } from 'node:fs';
import { z } from 'zod';

/** A strictly positive integer. */
export const positiveInt = () => z.int().positive();

/** A non-negative integer (0 usually means "off" or "only at the end"). */
export const nonNegativeInt = () => z.int().nonnegative();

/** Why paths are relative to the working directory, said once for every path field. */
export const PATH_NOTE =
  'Relative paths resolve against the current working directory (where bonsai is run), not the recipe file.';

function kindOf(path: string): 'file' | 'directory' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'missing';
  }
}

function existing(want: 'file' | 'directory') {
  return z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      const found = kindOf(path);
      if (found === want) return;
      ctx.addIssue({
        code: 'custom',
        input: path,
        message:
          found === 'missing'
            ? `no such ${want}: "${path}" (relative to ${process.cwd()})`
            : `expected a ${want}, but "${path}" is a ${found}`,
      });
    });
}

/** A path to a file that must exist when the recipe is loaded. */
export const existingFile = () => existing('file');

/** A path to a directory that must exist when the recipe is loaded. */
export const existingDirectory = () => existing('directory');

/** A dataset reference (the same shape as `data.train`). */
export const dataRefSchema = z.strictObject({
  format: z.enum(['text', 'jsonl']).describe('text: plain text; jsonl: one {"prompt", "completion"} object per line.'),
  path: existingFile().describe(`Data file. ${PATH_NOTE}`),
});

/** A name that becomes part of a metric key (rewards/<name>/mean). */
export const metricName = () =>
  z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (it becomes a metric key)').describe('Name, used in metric keys (rewards/<name>/mean).');
