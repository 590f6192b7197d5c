/**
 * The `job: edit` runner for `edit.kind: kfac`: load the model, collect (or reuse) the
 * curvature factors, edit every target, write the edited model in the input's layout
 * (bonsai checkpoint, or Hugging Face folder of its family) and a JSON report, both atomically.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadDataset } from '../data/load.ts';
import { BonsaiError } from '../errors.ts';
import { readHfConfigJson } from '../models/families/config.ts';
import { loadHfModel } from '../models/families/load.ts';
import { saveHfCheckpoint } from '../models/families/save.ts';
import { createTokenizer, tokenizerFiles, tokenizerRecord, type Tokenizer } from '../models/tokenizer.ts';
import { recipeTokenizer } from '../models/init-kinds.ts';
import type { CausalLM } from '../models/model.ts';
import { modelFromValues } from '../models/registry.ts';
import type { EditRecipe } from '../recipe/edit-schema.ts';
import { loadCheckpoint, saveCheckpoint } from '../models/checkpoint.ts';
import { Rng } from '../util/rng.ts';
import { checkFactorsFit, editWeight, factorEigen, type FactorEigen, type TargetEditReport } from './kfac-edit.ts';
import { collectKfacFactors, type KfacFactors } from './kfac-factors.ts';
import { chooseRho, type RhoChoice } from './kfac-rule.ts';
import { loadKfacFactors, saveKfacFactors } from './kfac-io.ts';
import { resolveTargets, type LinearSite } from './kfac-sites.ts';
import { globToRegExp } from '../util/glob.ts';

/** What an edit run did. */
export interface EditResult {
  /** The edited model: a bonsai checkpoint or a Hugging Face folder, like the input. */
  output: string;
  layout: 'bonsai' | 'hf';
  report: string;
  factorsPath: string;
  /** True when the factors came from an existing file rather than a new curvature pass. */
  factorsReused: boolean;
  targets: TargetEditReport[];
  seconds: { collect: number; eigen: number; edit: number };
  /** Token positions the curvature was averaged over. */
  tokens: number;
  /** With edit.choose_rho: the ρ chosen and the held-out losses that chose it. */
  choice?: RhoChoice;
}

/** Options for runEdit; `file` names the recipe in errors. */
export interface EditRunOptions {
  file?: string;
  log?: (line: string) => void;
  /** Eigen-decompositions from an earlier edit of the same factors (sweeps over ρ reuse them). */
  eigen?: Map<string, FactorEigen>;
}

/** Runs a validated edit recipe. The recipe's backend must already be initialised. */
export function runEdit(recipe: EditRecipe, opts: EditRunOptions = {}): EditResult & { eigen: Map<string, FactorEigen> } {
  const log = opts.log ?? (() => {});
  const where = opts.file ?? 'recipe';
  const e = recipe.edit;
  const { model, layout, tokenizer, hfConfig } = loadEditable(recipe);
  try {
    const sites = resolveTargets(model, e.targets, `${where}: edit.targets`);
    let rhoOf = e.rho === undefined ? undefined : rhoFor(e.rho, where);
    for (const s of sites) rhoOf?.(s.path); // every target must have a ρ before any work starts
    const factorsPath = e.factors ?? join(recipe.run.out_dir, 'kfac-factors.safetensors');
    const fingerprint = model.fingerprint();
    let factors: KfacFactors;
    let collect = 0;
    const reused = existsSync(factorsPath);
    if (reused) {
      factors = loadKfacFactors(factorsPath);
      checkFactorsFit(factors, fingerprint, `factors in ${factorsPath}`);
      checkFactorsCover(factors, sites, e.fisher, factorsPath);
      log(`reusing K-FAC factors from ${factorsPath} (${factors.tokens} tokens, ${factors.fisher} Fisher)`);
    } else {
      const seqLen = e.seq_len ?? model.config.nCtx;
      const examples = loadDataset(e.data, tokenizer, seqLen).examples;
      const t0 = performance.now();
      factors = collectKfacFactors(model, sites, examples, { fisher: e.fisher, tokens: e.tokens, batchSize: e.batch_size, seed: recipe.run.seed });
      collect = (performance.now() - t0) / 1000;
      saveKfacFactors(factorsPath, factors);
      log(`collected K-FAC factors for ${sites.length} targets over ${factors.tokens} tokens in ${collect.toFixed(1)} s → ${factorsPath}`);
    }
    const t1 = performance.now();
    const eigen = opts.eigen ?? factorEigen(factors);
    const eigenSeconds = (performance.now() - t1) / 1000;
    let choice: RhoChoice | undefined;
    if (e.choose_rho) {
      const validation = loadDataset(e.choose_rho.validation, tokenizer, e.seq_len ?? model.config.nCtx).examples;
      if (!validation.length) throw new BonsaiError(`${where}: edit.choose_rho.validation: ${e.choose_rho.validation.path} holds no examples`);
      choice = chooseRho(model, sites, factors, eigen, validation, e.choose_rho, log);
      log(`choose_rho: rho ${choice.rho} (held-out loss ${choice.baseLoss.toFixed(5)} unedited, budget +${e.choose_rho.max_loss_increase})`);
      const chosen = choice.rho;
      rhoOf = () => chosen;
    }
    const t2 = performance.now();
    const values = model.valuesSync();
    const rng = new Rng(recipe.run.seed);
    const targets = sites.map((s) => {
      const { weight, report } = editWeight(values.get(s.path)!, factors.factors.get(s.path)!, eigen.get(s.path)!, rhoOf!(s.path), e.select, rng);
      values.set(s.path, weight);
      return report;
    });
    const editSeconds = (performance.now() - t2) / 1000;
    const output = join(recipe.run.out_dir, 'model');
    writeModel(output, modelFromValues(model.config, values), tokenizer, hfConfig);
    const result: EditResult = {
      output,
      layout,
      report: join(recipe.run.out_dir, 'edit-report.json'),
      factorsPath,
      factorsReused: reused,
      targets,
      seconds: { collect, eigen: eigenSeconds, edit: editSeconds },
      tokens: factors.tokens,
      choice,
    };
    writeAtomically(result.report, JSON.stringify({ format: 'bonsai-edit-report-1', kind: 'kfac', recipe: recipe.run.name, source: recipe.model.init, fingerprint, fisher: factors.fisher, select: e.select, ...result }, null, 2) + '\n');
    return { ...result, eigen };
  } finally {
    model.dispose();
  }
}

/** The model to edit, and the layout it came in (the output is written the same way). */
function loadEditable(recipe: EditRecipe): { model: CausalLM; layout: EditResult['layout']; tokenizer: Tokenizer; hfConfig?: Record<string, unknown> } {
  const init = recipe.model.init;
  const hf = init.hf ?? init.hf_gpt2;
  if (hf) return { model: loadHfModel(hf), layout: 'hf', tokenizer: recipeTokenizer(recipe.model), hfConfig: readHfConfigJson(hf) };
  if ('checkpoint' in init && init.checkpoint) {
    const ck = loadCheckpoint(init.checkpoint, { tokenizer: recipe.model.tokenizer });
    return { model: modelFromValues(ck.config, ck.weights), layout: 'bonsai', tokenizer: createTokenizer(ck.tokenizer, init.checkpoint) };
  }
  throw new BonsaiError('an edit needs saved weights: model.init.checkpoint or model.init.hf');
}

/** ρ per target path: one value, or the first matching glob of a mapping. */
function rhoFor(rho: number | Record<string, number>, where: string): (path: string) => number {
  if (typeof rho === 'number') return () => rho;
  const rules = Object.entries(rho).map(([glob, v]) => ({ glob, re: globToRegExp(glob), v }));
  return (path) => {
    const hit = rules.find((r) => r.re.test(path));
    if (!hit) throw new BonsaiError(`${where}: edit.rho gives no value for target ${path}`, { hint: `add a glob for it (globs given: ${rules.map((r) => r.glob).join(', ')}), or "*" for the rest` });
    return hit.v;
  };
}

/** Reused factors must hold every target, collected with the Fisher the recipe asks for. */
function checkFactorsCover(f: KfacFactors, sites: readonly LinearSite[], fisher: string, path: string): void {
  const missing = sites.filter((s) => !f.factors.has(s.path)).map((s) => s.path);
  if (missing.length) throw new BonsaiError(`factors in ${path} lack targets ${missing.join(', ')}`, { hint: 'collect again into a new factors path' });
  if (f.fisher !== fisher) throw new BonsaiError(`factors in ${path} hold the ${f.fisher} Fisher, the recipe asks for ${fisher}`, { hint: 'collect again into a new factors path' });
}

/**
 * Writes the model into `dir` atomically: a bonsai checkpoint, or (with the input's config.json,
 * `hfConfig`) a Hugging Face folder written beside and renamed into place.
 */
function writeModel(dir: string, model: CausalLM, tokenizer: Tokenizer, hfConfig?: Record<string, unknown>): void {
  try {
    if (!hfConfig) return saveCheckpoint(dir, { config: model.config, ...tokenizerRecord(tokenizer), weights: model.valuesSync(), files: tokenizerFiles(tokenizer) });
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    try {
      saveHfCheckpoint(tmp, model.config, hfConfig, model.valuesSync(), 'F32', tokenizerFiles(tokenizer));
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  } finally {
    model.dispose();
  }
}

function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
