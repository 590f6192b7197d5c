// Hallucination world: the rules that choose a method's settings on the VALIDATION split, read
// from a YAML file (scripts/hallucination/rules.yaml) with located errors, as recipes are:
//   - validation / reported: JSONL splits of {prompt, completion?} rows (splits.ts writes them);
//     a validation split that shares an entity with the reported one is refused, naming the
//     entities; an empty one (or one without the known or the unseen entities a rule reads) is
//     an error located at its field;
//   - intervention: the probe fires above the highest OUT-OF-FOLD score of a validation-known
//     entity, or further: the probe is refit `folds` times on its own training data (probe_recipe's,
//     all validation entities), each time without a fold of the known entities, and scores the
//     fold it did not see — a threshold set on the scores of the entities a probe was fit on sits
//     too close to the known ones (src/probes/crossfit.ts). With n known entities reported, the
//     threshold is at least μ + z·σ of those out-of-fold logits, z = Φ⁻¹(1 − risk / n): under a
//     normal fit, the chance that ANY reported known entity is refused is `risk`;
//   - checkpoint.max_known_lost: an RL checkpoint is eligible when it loses at most this many
//     validation-known answers against the base; of the eligible ones (the base, step 0, always
//     is) the one with the fewest validation hallucinations is kept, the earliest on a tie.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BonsaiError } from '../../src/errors.ts';
import { existingFile, nonNegativeInt } from '../../src/registry/fields.ts';
import type { Finding } from '../../src/recipe/issues.ts';
import { parseWithSchema } from '../../src/recipe/load.ts';

export const rulesSchema = z.strictObject({
  validation: existingFile().describe('JSONL split the rules read: known entities with their answer, unseen ones without.'),
  reported: existingFile().describe('JSONL split the tables report; shares no entity with `validation`.'),
  intervention: z.strictObject({
    probe_recipe: existingFile().describe("The entity probe's recipe: its training data and fit settings, for the out-of-fold refits."),
    folds: z.int().min(2).default(4).describe('Folds of the known entities for the out-of-fold scores.'),
    risk: z.number().gt(0).lt(1).default(0.1).describe('Chance, under a normal fit of the out-of-fold known logits, that any reported known entity is refused.'),
  }),
  checkpoint: z.strictObject({ max_known_lost: nonNegativeInt().default(0).describe('Validation-known answers a kept RL checkpoint may lose.') }).prefault({}),
});
export type Rules = z.output<typeof rulesSchema>;

/** A split file's entities: known (a row with a completion) and unseen (without). */
export interface SplitFile {
  known: Map<string, string>;
  unseen: string[];
}

const ENTITY = /^Q: colour of ([A-Za-z]+)\?\nA:$/;

/** The intervention rule's threshold (a probability) from the out-of-fold known scores and the number of reported known entities. */
export function interventionThreshold(oof: readonly number[], nReported: number, rule: Pick<Rules['intervention'], 'risk'>): number {
  const l = oof.map((p) => Math.log(p / (1 - p)));
  const mu = l.reduce((a, b) => a + b, 0) / l.length;
  const sd = Math.sqrt(l.reduce((a, b) => a + (b - mu) ** 2, 0) / (l.length - 1));
  const at = Math.max(Math.max(...l), mu + normalQuantile(1 - rule.risk / nReported) * sd);
  return 1 / (1 + Math.exp(-at)) + 1e-7;
}

/** Φ⁻¹(p) for 0.5 < p < 1 (Abramowitz & Stegun 26.2.23, error < 4.5e-4). */
export function normalQuantile(p: number): number {
  const t = Math.sqrt(-2 * Math.log(1 - p));
  return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3);
}

/** Throws, naming them, when the entities asked about in `file` (any JSONL of {prompt}) include reported ones. */
export function refuseReported(file: string, reported: SplitFile, what: string): void {
  const rep = new Set([...reported.known.keys(), ...reported.unseen]);
  const shared = [...new Set(readFileSync(file, 'utf8').split('\n').flatMap((l) => {
    const m = /"prompt":"Q: colour of ([A-Za-z]+)\?/.exec(l);
    return m && rep.has(m[1]!) ? [m[1]!] : [];
  }))];
  if (shared.length) throw new BonsaiError(`${what} ${file} shares ${shared.length} entit${shared.length === 1 ? 'y' : 'ies'} with the reported split: ${shared.slice(0, 8).join(', ')}${shared.length > 8 ? ', …' : ''}`);
}

/** Reads a split file; a row whose prompt is not a hallucination-world question is reported by line. */
export function readSplit(path: string): SplitFile | string {
  const out: SplitFile = { known: new Map(), unseen: [] };
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let row: { prompt?: unknown; completion?: unknown };
    try {
      row = JSON.parse(line);
    } catch (e) {
      return `${path}:${i + 1}: not JSON (${(e as Error).message})`;
    }
    const m = typeof row.prompt === 'string' ? ENTITY.exec(row.prompt) : null;
    if (!m) return `${path}:${i + 1}: "prompt" is not a question "Q: colour of NAME?\\nA:"`;
    if (typeof row.completion === 'string') out.known.set(m[1]!, row.completion);
    else out.unseen.push(m[1]!);
  }
  return out;
}

/** What is wrong with the splits, located at their fields. */
function checkSplits(r: Rules | undefined): Finding[] {
  if (!r) return [];
  const val = readSplit(r.validation);
  const rep = readSplit(r.reported);
  const out: Finding[] = [];
  if (typeof val === 'string') out.push({ path: ['validation'], detail: val });
  if (typeof rep === 'string') out.push({ path: ['reported'], detail: rep });
  if (typeof val === 'string' || typeof rep === 'string') return out;
  if (val.known.size === 0 && val.unseen.length === 0) return [{ path: ['validation'], detail: `the validation split ${r.validation} is empty: the rules have nothing to read` }];
  if (val.known.size === 0) out.push({ path: ['validation'], detail: `the validation split ${r.validation} has no known entity (a row with a completion): the threshold and checkpoint rules read them` });
  if (val.unseen.length === 0) out.push({ path: ['validation'], detail: `the validation split ${r.validation} has no unseen entity (a row without a completion): the checkpoint rule counts hallucinations on them` });
  const reported = new Set([...rep.known.keys(), ...rep.unseen]);
  const shared = [...val.known.keys(), ...val.unseen].filter((e) => reported.has(e));
  if (shared.length) out.push({ path: ['validation'], detail: `the validation split shares ${shared.length} entit${shared.length === 1 ? 'y' : 'ies'} with the reported split ${r.reported}: ${shared.slice(0, 8).join(', ')}${shared.length > 8 ? ', …' : ''}` });
  return out;
}

/** Reads and checks a rules file; every problem is reported at once, located (file:line:col). */
export function loadRules(file: string): Rules & { splits: { validation: SplitFile; reported: SplitFile } } {
  const r = parseWithSchema(rulesSchema, readFileSync(file, 'utf8'), file, {}, (v) => checkSplits(v));
  return { ...r, splits: { validation: readSplit(r.validation) as SplitFile, reported: readSplit(r.reported) as SplitFile } };
}

/** The checkpoint rule: the eligible checkpoint with the fewest validation hallucinations (the earliest on a tie). */
export function chooseCheckpoint<T extends { step: number; known_lost: number; hallucination: number }>(rows: readonly T[], rules: Pick<Rules, 'checkpoint'>): T {
  const ok = rows.filter((r) => r.known_lost <= rules.checkpoint.max_known_lost).sort((a, b) => a.hallucination - b.hallucination || a.step - b.step);
  if (!ok.length) throw new Error('checkpoint rule: no eligible checkpoint (the base, step 0, should always be)');
  return ok[0]!;
}
