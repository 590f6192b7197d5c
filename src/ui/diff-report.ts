/**
 * The `bonsai diff` report the ui draws (format `bonsai.diff/1`): which tensors, heads and
 * neurons moved most between two checkpoints, the tokens each layer's logit lens promotes
 * and suppresses, and the probes' drift. Read from the files given to `bonsai ui --diff`,
 * checked once at start so a bad report is an error naming its file and field, never a
 * blank panel. Fields beyond these are allowed (and ignored); any list may be empty.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BonsaiError } from '../errors.ts';

const num = z.number();
const token = z.object({ token: z.string(), id: num, logit: num });
const side = z.object({ path: z.string(), fingerprint: z.string() });

export const diffReportSchema = z.object({
  format: z.literal('bonsai.diff/1'),
  a: side,
  b: side,
  weights: z.object({
    tensors: z.array(z.object({ path: z.string(), rel_change: num })).default([]),
    heads: z.array(z.object({ layer: num, head: num, rel_change: num })).default([]),
    neurons: z.array(z.object({ layer: num, neuron: num, rel_change: num })).default([]),
  }).prefault({}),
  lens: z.array(z.object({ layer: num, promoted: z.array(token).default([]), suppressed: z.array(token).default([]) })).default([]),
  probes: z.array(z.object({ name: z.string(), auroc_a: num, auroc_b: num, mean_a: num, mean_b: num })).default([]),
});

export type DiffReport = z.infer<typeof diffReportSchema>;

/** One report as the page receives it: the file it came from and its content. */
export interface LoadedDiff {
  file: string;
  report: DiffReport;
}

/** Reads and checks a diff report; a missing file, bad JSON or a wrong field is a BonsaiError naming it. */
export function loadDiffReport(file: string): LoadedDiff {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BonsaiError(`cannot read diff report ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: '`bonsai diff` writes these reports' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BonsaiError(`${file} is not JSON: ${(e as Error).message}`);
  }
  const parsed = diffReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new BonsaiError(`${file}: ${where}: ${issue.message}`, { hint: 'the ui reads `bonsai diff` reports (format "bonsai.diff/1")' });
  }
  return { file, report: parsed.data };
}
