import type { BackendReport } from '../backend/index.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import { buildTransforms } from './build.ts';
import { buildFreezer, buildInterventions } from './design.ts';
import { checkRlStepFits } from './memory-check.ts';
import { promptIds } from '../data/prompts.ts';
import { loadPrompts, runRl } from './rl.ts';
import type { TrainOptions, TrainSummary } from './train.ts';
import { trackedRun } from './tracking-run.ts';

/**
 * `train(recipe)` for an rl trainer: the shared tracked run (trackedRun) around the RL loop. The caller owns
 * `model` (built from model.init, usually the SFT base checkpoint); it must still hold those init weights,
 * since the frozen reference is copied from it, also on --resume (which then loads the policy's weights).
 */
export async function trainRl(recipe: Recipe, model: CausalLM, tokenizer: Tokenizer, backend: BackendReport, opts: TrainOptions, started: number): Promise<TrainSummary> {
  // Before any run is opened or step taken, as for SFT: an RL step that cannot fit stops here, saying what would.
  // Read (and any chat rendered) once: the check measures them, and the loop trains on them.
  const prompts = loadPrompts(recipe.data.train.path, tokenizer);
  const longestPrompt = prompts.reduce((m, p) => Math.max(m, promptIds(p, tokenizer).length), 1); // no spread: a large file would overflow the call stack
  const mem = checkRlStepFits(recipe, model, backend.name, longestPrompt);
  if (mem) opts.onLog?.(mem);
  const { result, runId } = await trackedRun(recipe, backend, opts, { 'bonsai.trainer': 'rl' }, ({ tracker, runId, recipeYaml }) => {
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
