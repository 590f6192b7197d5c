/**
 * Probes as a recipe names them: trained (`bonsai probe train`) from JSONL of
 * {prompt, completion, label} on the frozen copy, saved under out_dir, and loaded back
 * for rewards and interventions.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readRecords } from '../data/records.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import { loadSae } from '../sae/io.ts';
import { captureFeatures, checkProbeHook, type ProbeExample, type ProbeLevel } from './capture.ts';
import { fitProbeLoop, type FitLoopOptions } from './fit-loop.ts';
import { checkLogitLensHook, LogitLens } from './logit-lens.ts';
import { loadProbe, saveProbe } from './io.ts';
import type { Probe } from './probe.ts';
import { promptInputIds } from '../models/input-ids.ts';

export type ProbeRecipe = Recipe['probes'][number];

/** Where a recipe's probe lives: its `checkpoint`, else <out_dir>/probes/<name>. */
export function probeDir(recipe: Pick<Recipe, 'run'>, p: ProbeRecipe): string {
  return p.checkpoint ?? join(recipe.run.out_dir, 'probes', p.name);
}

/**
 * Probe examples: token level labels the completion tokens; sequence level reads the last
 * token. A causal model's activation at a token sees only the prefix, so a completion token
 * whose prefix also occurs with the other label (e.g. the space before either a made-up
 * colour or " unknown") cannot be told apart: such positions are left unlabelled rather
 * than taught two answers.
 */
export function probeExamples(path: string, tok: Tokenizer, level: ProbeLevel): ProbeExample[] {
  const rows = readRecords(path, { prompt: 'string', completion: 'string', label: 'number' }).map((r) => {
    const p = promptInputIds(tok, r.prompt as string); // as the model reads it: its BOS first where the tokenizer adds one
    return { p, ids: [...p, ...tok.encode(r.completion as string)], label: r.label as number };
  });
  if (level === 'sequence') return rows.map(({ ids, label }) => ({ ids, label }));
  const labelsOf = new Map<string, Set<number>>();
  const key = (ids: number[], t: number) => ids.slice(0, t + 1).join(',');
  for (const r of rows) for (let t = r.p.length; t < r.ids.length; t++) labelsOf.set(key(r.ids, t), (labelsOf.get(key(r.ids, t)) ?? new Set()).add(r.label));
  return rows.map(({ p, ids, label }) => {
    const positions = ids.map((_, t) => t).filter((t) => t >= p.length && labelsOf.get(key(ids, t))!.size === 1);
    return { ids, positions, label };
  });
}

/** What probe training reports to, and how it is stopped: see fitProbeLoop. */
export type ProbeTrainHooks = Pick<FitLoopOptions, 'tracker' | 'onLog' | 'interrupt'>;

/**
 * Trains one probe on `frozen` at `hook` (defaults to the recipe's hook), through the loop
 * driver. With `features: sae` it fits on the SAE's latents and returns a probe that
 * carries the SAE (refused when the SAE belongs to another model or hook); with
 * `features: logit_lens`, on `frozen`'s next-token log-probabilities (logit-lens.ts).
 */
export async function trainRecipeProbe(p: ProbeRecipe, frozen: CausalLM, tok: Tokenizer, hook = p.hook, hooks: ProbeTrainHooks = {}): Promise<Probe> {
  if (!p.train) throw new Error('internal: trainRecipeProbe needs probes[].train');
  checkProbeHook(frozen, hook, `probes "${p.name}".hook`);
  const sae = p.features === 'sae' ? loadSae(p.sae!, { fingerprint: frozen.fingerprint(), hook }) : undefined;
  if (p.features === 'logit_lens') checkLogitLensHook(hook, `probes "${p.name}".hook`);
  const lens = p.features === 'logit_lens' ? new LogitLens(frozen) : undefined;
  const encoder = sae ?? lens;
  try {
    const f = captureFeatures(frozen, hook, p.level, probeExamples(p.train.data, tok, p.level), 32, encoder && ((act) => encoder.encode(act)));
    const r = await fitProbeLoop(f, {
      name: p.name, hook, level: p.level, kind: p.kind, fingerprint: frozen.fingerprint(),
      seed: p.train.seed, heldOut: p.train.held_out, maxEpochs: p.train.max_epochs, patience: p.train.patience, ...hooks,
    });
    return sae ? r.probe.withSae(sae) : lens ? r.probe.withLens(lens) : r.probe;
  } catch (e) {
    sae?.dispose();
    throw e;
  }
}

/**
 * The directory of the recipe's first probe, trained on `frozen` and saved there unless a
 * probe is already saved (measurement scripts rerun seeds and reuse what exists).
 * `onTrained` sees a newly trained probe before it is freed.
 */
export async function ensureRecipeProbe(recipe: Pick<Recipe, 'run' | 'probes'>, frozen: CausalLM, tok: Tokenizer, onTrained?: (p: Probe) => void): Promise<string> {
  const spec = recipe.probes[0]!;
  const dir = probeDir(recipe, spec);
  if (!existsSync(join(dir, 'probe.json'))) {
    const p = await trainRecipeProbe(spec, frozen, tok);
    try {
      saveProbe(dir, p);
      onTrained?.(p);
    } finally {
      p.dispose();
    }
  }
  return dir;
}

/** Loads every probe of the recipe against the frozen copy, by name. */
export function loadRecipeProbes(recipe: Pick<Recipe, 'run' | 'probes'>, frozen: CausalLM): Map<string, Probe> {
  const out = new Map<string, Probe>();
  for (const p of recipe.probes) {
    checkProbeHook(frozen, p.hook, `probes "${p.name}".hook`);
    out.set(p.name, loadProbe(probeDir(recipe, p), frozen));
  }
  return out;
}
