/**
 * `bonsai train`: a recipe's run, the same for every trainer kind. Backend, tokenizer, model
 * (and LoRA adapters); the kind's setup (sft.ts or rl.ts: data and the memory check, before
 * any tracking run opens); one tracking run (tracking-run.ts: params, artifacts, --resume of
 * the run, its closing status) around the recipe's design (gradient transforms, freezing,
 * interventions) and the kind's loop (loop.ts, the one loop driver).
 */
import { describeBackend, initBackend, type BackendReport } from '../backend/index.ts';
import { recipeTokenizer } from '../models/init-kinds.ts';
import { buildModel } from '../models/init-build.ts';
import { resumedRule } from '../models/checkpoint.ts';
import { readHfDecoderConfig } from '../models/families/load.ts';
import { checkModelFits } from './load-fit.ts';
import type { Recipe } from '../recipe/schema.ts';
import { build, type Builders } from '../registry/kinds.ts';
import type { Tracker } from '../tracking/index.ts';
import { attachRecipeLora, baseModelName } from '../lora/build.ts';
import { buildTransforms } from './build.ts';
import { buildFreezer, buildInterventions } from './design.ts';
import type { trainerKinds } from './kinds/trainer.ts';
import type { KindSetup, LoopEvents, PreparedRun } from './loop.ts';
import { prepareRl, type RlResult } from './rl.ts';
import { prepareSft, type SftResult } from './sft.ts';
import { openTrackingRun, type LoopOutcome } from './tracking-run.ts';

export { BONSAI_VERSION } from './tracking-run.ts';

export interface TrainOptions extends LoopEvents {
  /** Path of the recipe file, logged as a tag. */
  recipeFile?: string;
  resume?: boolean;
  stopAfter?: number;
  interrupt?: { requested: boolean };
  /** Use this tracker instead of the one the recipe names (tests). */
  tracker?: Tracker;
}

/** What `train` returns: the kind's result (`kind` says which) and the run around it. */
export type TrainSummary = (SftResult | RlResult) & {
  backend: BackendReport;
  runId: string;
  params: number;
  seconds: number;
};

/**
 * Runs a whole recipe. The run is logged to MLflow's layout; its status is FINISHED, KILLED
 * (interrupted) or FAILED (an error, which is re-thrown after the run is closed, so nothing
 * is left RUNNING).
 */
export async function train(recipe: Recipe, opts: TrainOptions = {}): Promise<TrainSummary> {
  const started = performance.now();
  const log = opts.onLog ?? (() => {});
  const backend = await initBackend(recipe.backend);
  log(describeBackend(backend));
  // --resume feeds the model what its checkpoint's run fed it (a run from before special tokens were applied: the text alone).
  const tokenizer = recipeTokenizer(recipe.model, opts.resume ? resumedRule(recipe.run.out_dir) : undefined);
  checkInitFits(recipe, backend.name);
  const model = buildModel(recipe, tokenizer);
  let adapters: ReturnType<typeof attachRecipeLora> | undefined;
  try {
    if (recipe.lora) {
      adapters = attachRecipeLora(recipe.lora, model, recipe.run.seed, baseModelName(recipe.model.init as Record<string, unknown>));
      log(`lora: ${adapters.paths().length} adapters, ${adapters.numParams().toLocaleString('en-US')} trainable parameters (${((100 * adapters.numParams()) / model.numParams()).toFixed(2)}% of the base's); base weights frozen`);
    }
    // The kind's setup, before any tracking run opens: bad data, or a step that cannot fit, stops here.
    const kind = build(trainerRuns, recipe.trainer.kind, recipe.trainer, { recipe, model, tokenizer, backend: backend.name, opts });
    const run = await openTrackingRun(kind.recipe ?? recipe, backend, { ...opts, params: kind.params }, kind.tags);
    let outcome: LoopOutcome | undefined;
    let interventions: ReturnType<typeof buildInterventions> | undefined;
    try {
      // Interventions go to training passes only (sft.ts and rl.ts say which passes those are).
      interventions = buildInterventions(recipe, model);
      const result = await kind.run({
        ...opts,
        tracker: run.tracker,
        runId: run.runId,
        recipeYaml: run.recipeYaml,
        transforms: buildTransforms(recipe, { model, tokenizer, seqLen: kind.seqLen }),
        makeFreezer: () => buildFreezer(recipe, model, tokenizer, kind.seqLen, { resume: opts.resume, onLog: opts.onLog }),
        forward: interventions.forward,
      });
      outcome = result;
      return { ...result, backend, runId: run.runId, params: model.numParams(), seconds: (performance.now() - started) / 1000 };
    } finally {
      interventions?.dispose();
      await run.close(outcome);
    }
  } finally {
    model.dispose();
    adapters?.dispose();
  }
}

/** The setup of every trainer kind (kinds/trainer.ts); each returns the run of its loop. */
const trainerRuns: Builders<typeof trainerKinds, [setup: KindSetup], PreparedRun<SftResult | RlResult>> = {
  sft: (_t, setup) => prepareSft(setup),
  rl: (_t, setup) => prepareRl(setup),
};

/**
 * A Hugging Face model too big for the backend is refused from its config.json, before its
 * weights are read (reading a 1.5B model's shards takes minutes). The step's own check, once
 * the model is built, refines this with batch and sequence sizes.
 */
function checkInitFits(recipe: Recipe, backend: string): void {
  const dir = recipe.model.init.hf;
  if (!dir) return;
  const lora = recipe.lora !== undefined;
  const budget = recipe.memory.budget_mb;
  checkModelFits(readHfDecoderConfig(dir), `model.init.hf ${dir}`, backend, {
    command: 'train',
    trainsAll: !lora,
    frozenCopy: recipe.trainer.kind === 'rl' && !lora,
    budgetBytes: budget === undefined ? undefined : budget * 1e6,
  });
}
