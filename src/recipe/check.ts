/**
 * The validation pass's second half: every component's `check`, run against the recipe
 * and the model's *config* (hooks, parameter paths and widths follow from it), before
 * any backend is loaded or tensor made. Problems are reported, never thrown, so one pass
 * finds them all. Sections with type errors are left out (their errors are already
 * reported); the checks of every other section still run.
 */
import { z } from 'zod';
import { BonsaiError } from '../errors.ts';
import { freezeKindOf, freezeKinds } from '../gradients/freeze-kinds.ts';
import { interventionKinds } from '../gradients/intervention-kinds.ts';
import { gradientKinds } from '../gradients/kinds.ts';
import { initKindOf, initKinds, initValue, recipeTokenizer } from '../models/init-kinds.ts';
import { modelLayout, type ModelLayout } from '../models/layout.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import { probeKinds } from '../probes/kinds.ts';
import { rewardKinds } from '../rewards/kinds.ts';
import { trackerKindOf } from '../tracking/kinds.ts';
import { optimizerKinds } from '../trainer/kinds/optimizer.ts';
import { rlLossKinds } from '../trainer/kinds/rl-loss.ts';
import { trainerKinds } from '../trainer/kinds/trainer.ts';
import { checkRlPrompts } from '../trainer/kinds/rl-prompts.ts';
import { evalKinds } from '../trainer/kinds/evals.ts';
import { checkHook } from '../registry/check-helpers.ts';
import { jobKinds, type JobName } from './jobs.ts';
import { loraKinds, loraLayout } from '../lora/kinds.ts';
import { checkEntry, checkList, type CheckContext } from '../registry/kinds.ts';
import type { AnyRecipe, Recipe } from './schema.ts';
import type { PathSegment } from '../registry/kinds.ts';

/**
 * A recipe as the checks see it: each section that passed the schema, fully defaulted. A
 * section with type errors is absent, and in list sections an item with type errors is a
 * hole (the array is sparse, so indices still match the file).
 */
export type CheckedRecipe = { [K in Exclude<keyof Recipe, 'job'>]?: Recipe[K] } & { job?: AnyRecipe['job'] };

/**
 * Runs every check of `recipe`, reporting each problem through `report`. `written` is the
 * recipe as written (after --set), for the checks that read single fields of a section
 * with type errors elsewhere; without it they read `recipe`.
 */
export function checkRecipe(recipe: CheckedRecipe, report: CheckContext['report'], written?: Record<string, unknown>): void {
  const ctx: CheckContext = { recipe, report, ...modelOf(recipe, report) };
  if (recipe.lora) {
    // Targets name base weights; every other parameter glob names what trains: the adapters.
    checkEntry(loraKinds, 'lora', recipe.lora, ['lora'], ctx);
    if (ctx.model) ctx.model = loraLayout(ctx.model, recipe.lora);
  }
  const job = recipe.job as JobName | undefined;
  if (job && job in jobKinds) (jobKinds[job] as { check?(c: CheckContext): void }).check?.(ctx);
  const t = recipe.trainer;
  if (t) {
    checkEntry(trainerKinds, t.kind, t, ['trainer'], ctx);
    checkEntry(optimizerKinds, t.optimizer.kind, t.optimizer, ['trainer', 'optimizer'], ctx);
    if (t.kind === 'rl') checkEntry(rlLossKinds, t.loss.kind, t.loss, ['trainer', 'loss'], ctx);
  }
  checkRlPrompts(written ? written.trainer : t, ctx);
  checkList(gradientKinds, recipe.gradients, 'gradients', ctx);
  checkList(interventionKinds, recipe.interventions, 'interventions', ctx);
  checkList(rewardKinds, recipe.rewards, 'rewards', ctx);
  checkList(evalKinds, recipe.evals, 'evals', ctx);
  recipe.freeze?.forEach((s, i) => checkEntry(freezeKinds, freezeKindOf(s), s, ['freeze', i], ctx));
  recipe.probes?.forEach((p, i) => {
    checkHook(p.hook, ['probes', i, 'hook'], ctx);
    checkEntry(probeKinds, p.kind.kind, p.kind, ['probes', i, 'kind'], ctx);
  });
  const uri = recipe.tracking?.uri;
  if (uri !== undefined) {
    try {
      trackerKindOf(uri, './mlruns');
    } catch (e) {
      if (!(e instanceof BonsaiError)) throw e;
      report(['tracking', 'uri'], `${e.message}${e.hint ? `; ${e.hint}` : ''}`);
    }
  }
}

/** The tokenizer and the model's layout, from `model:` alone (reading a checkpoint's or HF folder's config.json). */
function modelOf(recipe: CheckedRecipe, report: CheckContext['report']): { model?: ModelLayout; tokenizer?: Tokenizer } {
  const m = recipe.model;
  if (!m) return {};
  const kind = initKindOf(m.init);
  const at: PathSegment[] = ['model', 'init', kind];
  let tokenizer: Tokenizer;
  try {
    tokenizer = recipeTokenizer(m);
  } catch (e) {
    // tokenizer hf: the directory's tokenizer.json is missing or broken; the message names the file.
    if (!(e instanceof BonsaiError)) throw e;
    report(m.tokenizer === 'hf' ? at : ['model', 'tokenizer'], `${e.message}${e.hint ? `; ${e.hint}` : ''}`);
    return {};
  }
  try {
    const configOf = initKinds[kind].configOf as (v: unknown, t: Tokenizer) => ReturnType<(typeof initKinds)[typeof kind]['configOf']>;
    const got = configOf(initValue(m.init), tokenizer);
    if (got.tokenizer && got.tokenizer !== m.tokenizer) {
      report(['model', 'tokenizer'], `the model at model.init.${kind} was trained with the ${got.tokenizer} tokenizer, the recipe asks for ${m.tokenizer} (set model.tokenizer: ${got.tokenizer})`);
    }
    return { model: modelLayout(got.config), tokenizer };
  } catch (e) {
    if (!(e instanceof BonsaiError)) throw e;
    report(at, e.message);
    return { tokenizer };
  }
}

/** Strip the wrappers that do not change what an array holds. */
function arrayElement(schema: z.ZodType): z.ZodType | undefined {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodArray ? (s.element as z.ZodType) : undefined;
}

/**
 * The sections of `data` that pass their own schema, for checking a recipe that failed the
 * whole schema. A list section keeps each item that passes, at its own index (the array is
 * sparse), so one bad item does not hide the checks of the others.
 */
export function salvageSections(data: Record<string, unknown>, sections: Record<string, z.ZodType>): CheckedRecipe {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(sections)) {
    const r = schema.safeParse(data[key]);
    if (r.success) {
      out[key] = r.data;
      continue;
    }
    const element = arrayElement(schema);
    if (element && Array.isArray(data[key])) {
      const items: unknown[] = new Array((data[key] as unknown[]).length);
      (data[key] as unknown[]).forEach((item, i) => {
        const ri = element.safeParse(item);
        if (ri.success) items[i] = ri.data;
      });
      out[key] = items;
    }
  }
  const trainer = out.trainer as { kind?: string } | undefined;
  out.job ??= trainer?.kind;
  return out as CheckedRecipe;
}
