/**
 * Probes as a recipe names them: trained (`bonsai probe train`) from JSONL of
 * {prompt, completion, label} on the frozen copy, saved under out_dir, and loaded back
 * for rewards and interventions.
 */
import { join } from 'node:path';
import { readRecords } from '../data/records.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { Recipe } from '../recipe/schema.ts';
import { captureFeatures, checkProbeHook, type ProbeExample, type ProbeLevel } from './capture.ts';
import { fitProbe } from './fit.ts';
import { loadProbe } from './io.ts';
import type { Probe } from './probe.ts';

export type ProbeRecipe = Recipe['probes'][number];

/** Where a recipe's probe lives: its `checkpoint`, else <out_dir>/probes/<name>. */
export function probeDir(recipe: Recipe, p: ProbeRecipe): string {
  return p.checkpoint ?? join(recipe.run.out_dir, 'probes', p.name);
}

/** Probe examples: token level labels the completion tokens; sequence level reads the last token. */
export function probeExamples(path: string, tok: Tokenizer, level: ProbeLevel): ProbeExample[] {
  return readRecords(path, { prompt: 'string', completion: 'string', label: 'number' }).map((r) => {
    const p = tok.encode(r.prompt as string);
    const c = tok.encode(r.completion as string);
    const ids = [...p, ...c];
    const label = r.label as number;
    return level === 'token' ? { ids, positions: c.map((_, k) => p.length + k), label } : { ids, label };
  });
}

/** Trains one probe on `frozen` at `hook` (defaults to the recipe's hook). */
export function trainRecipeProbe(p: ProbeRecipe, frozen: HookedTransformer, tok: Tokenizer, hook = p.hook): Probe {
  if (!p.train) throw new Error('internal: trainRecipeProbe needs probes[].train');
  checkProbeHook(frozen, hook, `probes "${p.name}".hook`);
  const f = captureFeatures(frozen, hook, p.level, probeExamples(p.train.data, tok, p.level));
  return fitProbe(f, {
    name: p.name, hook, level: p.level, kind: p.kind, fingerprint: frozen.fingerprint(),
    seed: p.train.seed, heldOut: p.train.held_out, maxEpochs: p.train.max_epochs, patience: p.train.patience,
  });
}

/** Loads every probe of the recipe against the frozen copy, by name. */
export function loadRecipeProbes(recipe: Recipe, frozen: HookedTransformer): Map<string, Probe> {
  const out = new Map<string, Probe>();
  for (const p of recipe.probes) {
    checkProbeHook(frozen, p.hook, `probes "${p.name}".hook`);
    out.set(p.name, loadProbe(probeDir(recipe, p), frozen));
  }
  return out;
}
