import type { BackendReport } from '../backend/index.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import { buildTransforms } from './build.ts';
import { buildFreezer, buildInterventions } from './design.ts';
import { checkRlStepFits } from './memory-check.ts';
import { promptIds } from '../data/prompts.ts';
import { loadPrompts, runRl } from './rl.ts';
import type { TrainOptions, TrainSummary } from './run.ts';
import { trackedRun } from './tracked-run.ts';
import { describeSampling, resolveSampling } from '../models/sampling-defaults.ts';

/**
 * `train(recipe)` for an rl trainer: the shared tracked run (trackedRun) around the RL loop. The caller owns
 * `model` (built from model.init, usually the SFT base checkpoint); it must still hold those init weights,
 * since the frozen reference is copied from it, also on --resume (which then loads the policy's weights).
 */
export async function trainRl(given: Recipe, model: CausalLM, tokenizer: Tokenizer, backend: BackendReport, opts: TrainOptions, started: number): Promise<TrainSummary> {
  const { recipe, fromFile } = withSamplingDefaults(given, tokenizer, opts.onLog);
  // Before any run is opened or step taken, as for SFT: an RL step that cannot fit stops here, saying what would.
  // Read (and any chat rendered) once: the check measures them, and the loop trains on them.
  const prompts = loadPrompts(recipe.data.train.path, tokenizer);
  const longestPrompt = prompts.reduce((m, p) => Math.max(m, promptIds(p, tokenizer).length), 1); // no spread: a large file would overflow the call stack
  const mem = checkRlStepFits(recipe, model, backend.name, longestPrompt);
  if (mem) opts.onLog?.(mem);
  const { result, runId } = await trackedRun(recipe, backend, { ...opts, params: fromFile }, { 'bonsai.trainer': 'rl' }, ({ tracker, runId, recipeYaml }) => {
    const seqLen = model.config.nCtx;
    const transforms = buildTransforms(recipe, { model, tokenizer, seqLen });
    const makeFreezer = () => buildFreezer(recipe, model, tokenizer, seqLen, { resume: opts.resume, onLog: opts.onLog });
    // Interventions go to the policy's training passes only: not the frozen reference, not rollout sampling.
    const interventions = buildInterventions(recipe, model);
    return runRl({ ...opts, recipe, model, tokenizer, transforms, makeFreezer, forward: interventions.forward, prompts, tracker, recipeYaml, runId }).finally(() =>
      interventions.dispose(),
    );
  });
  return { ...result, backend, runId, params: model.numParams(), unigramNats: NaN, seconds: (performance.now() - started) / 1000 };
}

/**
 * The rollouts' sampling settings the recipe leaves out, from the model's generation_config.json
 * (models/sampling-defaults.ts); the resolved recipe and its params then hold the values used, and
 * `trainer.<setting>.source` params name the file for each one it gave.
 */
function withSamplingDefaults(recipe: Recipe, tokenizer: Tokenizer, log?: (line: string) => void): { recipe: Recipe; fromFile: Record<string, string> } {
  const t = recipe.trainer;
  if (t.kind !== 'rl') throw new Error('internal: trainRl needs an rl trainer');
  const s = resolveSampling({ temperature: t.temperature, topP: t.top_p, topK: t.top_k }, tokenizer, {
    fallbackTemperature: 1,
    alwaysSample: true,
    names: { temperature: 'trainer.temperature', topP: 'trainer.top_p', topK: 'trainer.top_k' },
  });
  if (Object.keys(s.fromFile).length || s.notes.length) log?.(`rollout ${describeSampling(s)}`);
  const fromFile = Object.fromEntries(Object.entries(s.fromFile).map(([k, f]) => [`${k}.source`, f]));
  return { recipe: { ...recipe, trainer: { ...t, temperature: s.temperature, top_p: s.topP, top_k: s.topK } }, fromFile };
}
