/**
 * Supervised fine-tuning, read top to bottom: the setup (prepareSft: data and the memory
 * check, before the tracking run opens), the loop (runSft on the loop driver, loop.ts), and
 * the step (grad_accum micro-batches through createTrainStep, seam.ts). Evaluation is the
 * eval split's loss; a closing sample when the recipe asks for one.
 */
import { BonsaiError } from '../errors.ts';
import { Batcher } from '../data/index.ts';
import type { GradientTransform } from '../gradients/transform.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import { generate } from '../models/generate.ts';
import { endOfSequenceIds, type Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import type { Rng } from '../util/rng.ts';
import { buildData, buildOptimizer, type RunData } from './build.ts';
import { evaluate, type EvalResult } from './evaluate.ts';
import { runEvals } from './evals.ts';
import { runLoop, type KindRunContext, type KindSetup, type LoopOptions, type LoopTrainer, type PreparedRun } from './loop.ts';
import { checkRecipeStepFits } from './memory-check.ts';
import { createTrainStep } from './seam.ts';
import { promptInputIds } from '../models/input-ids.ts';

export type { LoopEvents } from './loop.ts';

/** The loop's options (loop.ts: resume, stop, freezing, tracking) less what the SFT trainer builds itself. */
export interface SftLoopOptions extends Omit<LoopOptions<EvalResult>, 'optimizer' | 'plan' | 'trainer'> {
  /** The recipe's gradient transforms, in order; disposed when the run ends. */
  transforms: GradientTransform[];
  data: RunData;
  /** Training-pass forward options (interventions); evaluation and sampling never use them. */
  forward?: ForwardOptions;
}

export interface SftResult {
  kind: 'sft';
  step: number;
  finalLoss: number;
  eval?: EvalResult;
  interrupted: boolean;
  checkpoint?: string;
  sample?: string;
  /** The recipe's evals (`eval/<name>/<metric>`), when it names any and the run finished. */
  evals?: Record<string, number>;
  /** Unigram entropy (nats/token) of the training targets: the bar eval loss must clear. */
  unigramNats: number;
}

/** SFT's setup: the data, then the memory check; the returned run trains on them inside the tracking run. */
export function prepareSft({ recipe, model, tokenizer, backend, opts }: KindSetup): PreparedRun<SftResult> {
  const data = buildData(recipe, tokenizer, model.config.nCtx);
  opts.onLog?.(
    `model: ${model.numParams().toLocaleString('en-US')} parameters; data: ${data.train.length} train / ${data.eval.length} eval sequences of ${data.seqLen} tokens; ` +
      `unigram entropy ${data.unigram.nats.toFixed(3)} nats/token (${data.unigram.bits.toFixed(3)} bits)`,
  );
  // Before any run is opened or step taken: a step that cannot fit stops here, saying what would.
  const mem = checkRecipeStepFits(recipe, model, backend, data.seqLen);
  if (mem) opts.onLog?.(mem);
  return {
    tags: {},
    seqLen: data.seqLen,
    run(ctx: KindRunContext) {
      ctx.tracker.logMetrics(0, { 'data/unigram_entropy_nats': data.unigram.nats });
      return runSft({ ...ctx, recipe, model, tokenizer, data });
    },
  };
}

/**
 * The SFT loop on the loop driver (loop.ts): its step draws grad_accum micro-batches and
 * runs one train step; its state is the batcher. Evaluation is the eval split's loss.
 */
export async function runSft(o: SftLoopOptions): Promise<SftResult> {
  const t = sftTrainer(o.recipe);
  const { model, data } = o;
  const optimizer = buildOptimizer(t);
  const batcher = new Batcher(data.train, { batchSize: t.batch_size, seed: o.recipe.run.seed });
  const memory = o.recipe.memory;
  const trainStep = createTrainStep({ model, optimizer, transforms: o.transforms, forward: { ...o.forward, recompute: memory.recompute }, ceChunk: memory.ce_chunk });
  let started = 0;
  let tokensSeen = 0;
  const trainer: LoopTrainer<EvalResult> = {
    step({ lr, logged }) {
      if (!started) started = performance.now();
      const micro = Array.from({ length: t.grad_accum }, () => batcher.next());
      const r = trainStep(micro, lr, logged); // transform stats only where they will be logged
      if (!r.nonFinite) tokensSeen += micro.reduce((n, b) => n + b.batchSize * b.seqLen, 0);
      const tokensPerSec = tokensSeen / ((performance.now() - started) / 1000);
      return { loss: r.loss, metrics: { 'train/loss': r.loss, 'train/tokens_per_sec': tokensPerSec }, stats: r.stats, nonFinite: r.nonFinite, tokensPerSec };
    },
    state: () => ({ batcher: batcher.state() }),
    restore(state, dir) {
      if (!state.batcher) throw new BonsaiError(`--resume: ${dir} holds no data position (state.json has no batcher); it is not an SFT checkpoint`);
      batcher.restore(state.batcher);
    },
    evaluate() {
      if (!data.evalBatches.length) return undefined;
      const r = evaluate(model, data.evalBatches);
      return { metrics: { 'eval/loss': r.loss, 'eval/perplexity': r.perplexity }, line: `eval loss ${r.loss.toFixed(4)} (perplexity ${r.perplexity.toFixed(2)})`, value: r };
    },
  };
  try {
    const plan = { steps: t.steps, logEvery: t.log_every, evalEvery: t.eval.every, maxNonfiniteSteps: t.max_nonfinite_steps };
    const r = await runLoop({ ...o, optimizer, plan, trainer });
    const sample = !r.interrupted && o.recipe.sample ? sampleText(model, o.tokenizer, o.recipe.sample, r.rng) : undefined;
    // The recipe's task metrics, on the finished model (no interventions), at the last step.
    const evals = !r.interrupted && o.recipe.evals?.length ? runEvals(o.recipe, model, o.tokenizer, data.seqLen) : undefined;
    if (evals) o.tracker.logMetrics(r.step, evals);
    return { kind: 'sft', step: r.step, finalLoss: r.finalLoss, eval: r.eval, interrupted: r.interrupted, checkpoint: r.checkpoint, sample, evals, unigramNats: data.unigram.nats };
  } finally {
    optimizer.dispose();
    for (const tr of o.transforms) tr.dispose?.();
  }
}

function sampleText(model: CausalLM, tok: Tokenizer, s: NonNullable<Recipe['sample']>, rng: Rng): string {
  const prompt = promptInputIds(tok, s.prompt);
  const out = generate(model, [prompt.length ? prompt : [tok.eosId]], {
    maxNewTokens: s.max_new_tokens,
    temperature: s.temperature,
    topK: s.top_k,
    topP: s.top_p,
    stopTokens: endOfSequenceIds(tok),
    rng,
  });
  return s.prompt + tok.decode(out.tokens[0]!);
}

/** The recipe's trainer, which the SFT loop needs to be `sft` (train.ts dispatches on kind). */
function sftTrainer(recipe: Recipe): Extract<Recipe['trainer'], { kind: 'sft' }> {
  if (recipe.trainer.kind !== 'sft') throw new Error(`internal: the SFT loop got a ${recipe.trainer.kind} trainer`);
  return recipe.trainer;
}
