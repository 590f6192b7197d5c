import { describeBackend, initBackend, type BackendReport } from '../backend/index.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import { recipeTokenizer } from '../models/init-kinds.ts';
import type { CausalLM } from '../models/model.ts';
import { build, type Builders } from '../recipe/registry.ts';
import type { trainerKinds } from './kinds/trainer.ts';
import type { Recipe } from '../recipe/schema.ts';
import type { Tracker } from '../tracking/index.ts';
import { buildData, buildModel, buildTransforms } from './build.ts';
import { buildFreezer, buildInterventions } from './design.ts';
import { runSft, type LoopEvents, type SftResult } from './sft.ts';
import { trainRl } from './run-rl.ts';
import { trackedRun } from './tracked-run.ts';
import { checkRecipeStepFits } from './memory-check.ts';
import { attachRecipeLora, baseModelName } from '../lora/build.ts';
import { resumedRule } from './checkpoint.ts';
import { readHfDecoderConfig } from '../models/families/load.ts';
import { checkModelFits } from './load-fit.ts';

export { BONSAI_VERSION } from './tracked-run.ts';

export interface TrainOptions extends LoopEvents {
  /** Path of the recipe file, logged as a tag. */
  recipeFile?: string;
  resume?: boolean;
  stopAfter?: number;
  interrupt?: { requested: boolean };
  /** Use this tracker instead of the one the recipe names (tests). */
  tracker?: Tracker;
}

export interface TrainSummary extends SftResult {
  backend: BackendReport;
  runId: string;
  params: number;
  /** Unigram entropy (nats/token) of the training targets: the bar eval loss must clear. */
  unigramNats: number;
  seconds: number;
}

/**
 * Runs a whole recipe: backend → tokenizer → model → data → tracker → training loop.
 * The run is logged to MLflow's layout; its status is FINISHED, KILLED (interrupted) or
 * FAILED (an error, which is re-thrown after the run is closed, so nothing is left RUNNING).
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
    return await build(trainerRunners, recipe.trainer.kind, recipe.trainer, recipe, model, tokenizer, backend, opts, started);
  } finally {
    model.dispose();
    adapters?.dispose();
  }
}

type RunnerArgs = [recipe: Recipe, model: CausalLM, tokenizer: Tokenizer, backend: BackendReport, opts: TrainOptions, started: number];

/** The run of every trainer kind (kinds/trainer.ts); the caller owns and disposes `model`. */
const trainerRunners: Builders<typeof trainerKinds, RunnerArgs, Promise<TrainSummary>> = {
  sft: (_t, ...args) => trainSft(...args),
  rl: (_t, ...args) => trainRl(...args),
};

/** `train(recipe)` for an sft trainer: data, then the tracked SFT loop. */
async function trainSft(...[recipe, model, tokenizer, backend, opts, started]: RunnerArgs): Promise<TrainSummary> {
  const log = opts.onLog ?? (() => {});
  const data = buildData(recipe, tokenizer, model.config.nCtx);
  log(
    `model: ${model.numParams().toLocaleString('en-US')} parameters; data: ${data.train.length} train / ${data.eval.length} eval sequences of ${data.seqLen} tokens; ` +
      `unigram entropy ${data.unigram.nats.toFixed(3)} nats/token (${data.unigram.bits.toFixed(3)} bits)`,
  );
  // Before any run is opened or step taken: a step that cannot fit stops here, saying what would.
  const mem = checkRecipeStepFits(recipe, model, backend.name, data.seqLen);
  if (mem) log(mem);
  const { result, runId } = await trackedRun(recipe, backend, opts, {}, async ({ tracker, runId, recipeYaml }) => {
    tracker.logMetrics(0, { 'data/unigram_entropy_nats': data.unigram.nats });
    const makeFreezer = () => buildFreezer(recipe, model, tokenizer, data.seqLen, { resume: opts.resume, onLog: opts.onLog });
    // Interventions go to training passes only; evaluation and sampling inside runSft run without them.
    const interventions = buildInterventions(recipe, model);
    const transforms = buildTransforms(recipe, { model, tokenizer, seqLen: data.seqLen });
    return runSft({ ...opts, recipe, model, tokenizer, data, transforms, makeFreezer, forward: interventions.forward, tracker, recipeYaml, runId }).finally(() =>
      interventions.dispose(),
    );
  });
  return {
    ...result,
    backend,
    runId,
    params: model.numParams(),
    unigramNats: data.unigram.nats,
    seconds: (performance.now() - started) / 1000,
  };
}

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
