/**
 * RL (GRPO-shaped, like nanochat's chat_rl.py), read top to bottom: the setup (prepareRl:
 * prompts, their room check and the memory check, before the tracking run opens; then
 * runRl's frozen reference, probes, rewards and stop tokens), the loop (runRl on the loop
 * driver, loop.ts: prompts → rlStep → metrics, with checkpoints, SIGINT and --resume as in
 * SFT), and the step (rlStep): rollouts → ONE frozen pass (reference log-probs and probe
 * activations) → policy pass (old log-probs, entropy, the activations of a policy-host
 * probe; both no-grad passes run the output head in chunks) → rewards → group advantages →
 * inner epochs of the policy loss + β·KL(k3) through the public gradient seam.
 *
 * It differs from plain GRPO in what the reward can read: probe rewards score the frozen
 * copy's activations from the same forward pass that gives the KL reference, and an
 * optional runtime intervention inserts tokens mid-rollout. The recipe's `freeze` and
 * `interventions` apply as in SFT (interventions on the policy's training passes only).
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { loadPromptData, promptIds } from '../data/prompts.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import { endOfSequenceIds, type Tokenizer } from '../models/tokenizer.ts';
import type { Recipe } from '../recipe/schema.ts';
import type { CausalLM } from '../models/model.ts';
import { ceChunkRows } from '../models/chunked-ce.ts';
import { chunkedTokenLogprobs, maskedMean, noGradLogprobs } from '../models/logprobs.ts';
import { renderedTailIds } from '../models/input-ids.ts';
import { describeSampling, resolveSampling } from '../models/sampling-defaults.ts';
import { probeIntervention } from '../probes/intervene.ts';
import { loadRecipeProbes } from '../probes/recipe.ts';
import { buildRewards } from '../rewards/build.ts';
import { scoreRewards } from '../rewards/compose.ts';
import { frozenPass, rewardHooks } from '../rewards/frozen.ts';
import type { Reward } from '../rewards/types.ts';
import { frozenReference } from '../lora/attach.ts';
import { buildOptimizer } from './build.ts';
import { PROMPT_ROOM_HINT, promptRoomProblem } from './kinds/rl-prompts.ts';
import { runLoop, type KindRunContext, type KindSetup, type LoopOptions, type LoopTrainer, type PreparedRun } from './loop.ts';
import { checkRlStepFits } from './memory-check.ts';
import { buildRlLoss, k3, tokenMean, type PolicyLoss } from './rl-loss.ts';
import { evaluateRl } from './rl-eval.ts';
import { PromptCursor, restoreRlState, type RlState } from './rl-resume.ts';
import { rollout, type PromptItem, type RolloutOptions } from './rollout.ts';
import { createLossStep, type StepResult } from './seam.ts';
import { advantagesOf } from './token-advantages.ts';

/** What an RL run produces. */
export interface RlResult {
  kind: 'rl';
  step: number;
  /** The last applied step's policy loss (NaN if none). */
  finalLoss: number;
  /** The last evaluation's `eval/rewards/<name>/mean` and `eval/response_length`, when data.eval names prompts. */
  eval?: Record<string, number>;
  interrupted: boolean;
  checkpoint?: string;
}

/** The loop's options (loop.ts: resume, stop, freezing, tracking) less what the RL trainer builds itself. */
export interface RlLoopOptions extends Omit<LoopOptions<Record<string, number>>, 'optimizer' | 'plan' | 'trainer'> {
  /** The recipe's gradient transforms, in order; disposed when the run ends. */
  transforms: KindRunContext['transforms'];
  /** The recipe's interventions, for the policy's training passes only (rlStep says which). */
  forward?: Pick<ForwardOptions, 'hooks'>;
  /** data.train's prompts, when the caller has read them already (prepareRl, for its memory check). */
  prompts?: PromptItem[];
}

/** Throws when some of `prompts` (from `file`) leave no room for max_new_tokens (kinds/rl-prompts.ts). */
function checkPromptRoom(prompts: readonly PromptItem[], tok: Tokenizer, nCtx: number, maxNewTokens: number, file: string): void {
  const problem = promptRoomProblem(prompts, tok, nCtx, maxNewTokens, file);
  if (problem) throw new BonsaiError(problem, { hint: PROMPT_ROOM_HINT });
}

/**
 * RL's setup before the tracking run opens: data.train's prompts, read (and any chat
 * rendered) once; the room check; the memory check, which measures the longest prompt. The
 * caller's `model` (model.init, usually the SFT base checkpoint) must still hold those init
 * weights: the frozen reference is copied from it, also on --resume (which then loads the
 * policy's weights).
 */
export function prepareRl({ recipe: given, model, tokenizer, backend, opts }: KindSetup): PreparedRun<RlResult> {
  const { recipe, fromFile } = withSamplingDefaults(given, tokenizer, opts.onLog);
  const t = rlTrainer(recipe);
  const prompts = loadPromptData(recipe.data.train.path, tokenizer);
  checkPromptRoom(prompts, tokenizer, model.config.nCtx, t.max_new_tokens, recipe.data.train.path);
  const longestPrompt = prompts.reduce((m, p) => Math.max(m, promptIds(p, tokenizer).length), 1); // no spread: a large file would overflow the call stack
  const mem = checkRlStepFits(recipe, model, backend, longestPrompt);
  if (mem) opts.onLog?.(mem);
  return {
    tags: { 'bonsai.trainer': 'rl' },
    recipe,
    params: fromFile,
    seqLen: model.config.nCtx,
    run: (ctx) => runRl({ ...ctx, recipe, model, tokenizer, prompts }),
  };
}

/**
 * The rollouts' sampling settings the recipe leaves out, from the model's generation_config.json
 * (models/sampling-defaults.ts); the resolved recipe and its params then hold the values used, and
 * `trainer.<setting>.source` params name the file for each one it gave.
 */
function withSamplingDefaults(recipe: Recipe, tokenizer: Tokenizer, log?: (line: string) => void): { recipe: Recipe; fromFile: Record<string, string> } {
  const t = rlTrainer(recipe);
  const s = resolveSampling({ temperature: t.temperature, topP: t.top_p, topK: t.top_k }, tokenizer, {
    fallbackTemperature: 1,
    alwaysSample: true,
    names: { temperature: 'trainer.temperature', topP: 'trainer.top_p', topK: 'trainer.top_k' },
  });
  if (Object.keys(s.fromFile).length || s.notes.length) log?.(`rollout ${describeSampling(s)}`);
  const fromFile = Object.fromEntries(Object.entries(s.fromFile).map(([k, f]) => [`${k}.source`, f]));
  return { recipe: { ...recipe, trainer: { ...t, temperature: s.temperature, top_p: s.topP, top_k: s.topK } }, fromFile };
}

/**
 * The RL loop on the loop driver (loop.ts): its step draws batch_size prompts and runs
 * rlStep; its state is the prompt cursor and the reference's fingerprint (rl-resume.ts).
 */
async function runRl(o: RlLoopOptions): Promise<RlResult> {
  const { recipe, model, tokenizer: tok } = o;
  const t = rlTrainer(recipe);
  const prompts = o.prompts ?? loadPromptData(recipe.data.train.path, tok);
  if (!o.prompts) checkPromptRoom(prompts, tok, model.config.nCtx, t.max_new_tokens, recipe.data.train.path);
  const evalPrompts = recipe.data.eval ? loadPromptData(recipe.data.eval.path, tok) : [];
  if (recipe.data.eval) checkPromptRoom(evalPrompts, tok, model.config.nCtx, t.max_new_tokens, recipe.data.eval.path);
  if (t.eval.every > 0 && !evalPrompts.length) {
    throw new BonsaiError(`trainer.eval.every is ${t.eval.every} but data.eval names no prompts to evaluate on`, { hint: 'add data.eval: { format: jsonl, path: … } or set trainer.eval.every: 0' });
  }
  // The reference is the init weights, copied BEFORE a resume loads the trained policy. Under
  // LoRA it is the base itself (adapters switched off): no copy, and no optimizer can move it.
  const frozen = frozenReference(model);
  const reference = frozen.fingerprint();
  const optimizer = buildOptimizer(t);
  let probes: ReturnType<typeof loadRecipeProbes> | undefined;
  let rewards: Awaited<ReturnType<typeof buildRewards>> | undefined;
  try {
    probes = loadRecipeProbes(recipe, frozen);
    rewards = await buildRewards(recipe, probes);
    const stopTokens = [...endOfSequenceIds(tok), ...t.stop.map((s) => {
      const ids = renderedTailIds(tok, s); // a chat model's end-of-turn text is its special id
      if (ids.length !== 1) throw new BonsaiError(`trainer.stop: "${JSON.stringify(s)}" is ${ids.length} tokens; each stop text must be one token`);
      return ids[0]!;
    })];
    const iv = t.intervention ? probeIntervention({ frozen, probe: probes.get(t.intervention.probe)!, tokens: tok.encode(t.intervention.insert), maxPerSequence: t.intervention.max_per_sequence }) : undefined;
    const step = createLossStep({ model, optimizer, transforms: o.transforms });
    const cursor = new PromptCursor(prompts.length, recipe.run.seed);
    const opts = { policy: model, frozen, tokenizer: tok, rewards, loss: buildRlLoss(t.loss), step,
      beta: t.kl_beta, scaleByStd: t.advantage.scale_by_std, innerEpochs: t.inner_epochs, forward: o.forward,
      memory: { ceChunk: recipe.memory.ce_chunk, recompute: recipe.memory.recompute } };
    const trainer: LoopTrainer<Record<string, number>> = {
      async step({ step: s, lr, rng, logged }) {
        const items = cursor.take(t.batch_size).map((i) => prompts[i]!);
        const t0 = performance.now();
        const rollout = { G: t.group_size, maxNewTokens: t.max_new_tokens, temperature: t.temperature, topP: t.top_p, topK: t.top_k, stopTokens, rng, insert: iv?.insert };
        const r = await rlStep({ ...opts, rollout }, items, lr, s, logged);
        const m = r.metrics;
        // Sampled completion tokens per second of the whole step (rollouts, scoring and update).
        const sampled = m['train/response_length']! * t.batch_size * t.group_size;
        const tokensPerSec = sampled / ((performance.now() - t0) / 1000);
        return {
          loss: m['train/loss']!, metrics: { ...m, 'train/tokens_per_sec': tokensPerSec }, stats: r.stats, nonFinite: r.nonFinite,
          tokensPerSec,
          line: `reward ${m['rewards/total/mean']!.toFixed(3)} kl ${m['train/kl']!.toFixed(4)} len ${m['train/response_length']!.toFixed(1)}`,
        };
      },
      state: () => ({ prompts: cursor.state(), reference }) satisfies RlState,
      restore: (state, dir) => restoreRlState(state, dir, cursor, reference),
      async evaluate() {
        if (!evalPrompts.length) return undefined;
        const m = await evaluateRl({
          policy: model, frozen, tokenizer: tok, rewards: rewards!, prompts: evalPrompts, seed: recipe.run.seed + 2, chunk: t.batch_size * t.group_size,
          rollout: { maxNewTokens: t.max_new_tokens, temperature: t.temperature, topP: t.top_p, topK: t.top_k, stopTokens },
        });
        return { metrics: m, line: `eval reward ${m['eval/rewards/total/mean']!.toFixed(3)} len ${m['eval/response_length']!.toFixed(1)}`, value: m };
      },
    };
    const plan = { steps: t.steps, logEvery: t.log_every, evalEvery: t.eval.every, maxNonfiniteSteps: t.max_nonfinite_steps };
    const r = await runLoop({ ...o, optimizer, plan, trainer });
    return { kind: 'rl', step: r.step, finalLoss: r.finalLoss, eval: r.eval, interrupted: r.interrupted, checkpoint: r.checkpoint };
  } finally {
    rewards?.forEach((r) => r.dispose?.());
    probes?.forEach((p) => p.dispose());
    optimizer.dispose();
    for (const tr of o.transforms) tr.dispose?.();
    frozen.dispose();
  }
}

export interface RlStepOptions {
  policy: CausalLM;
  frozen: CausalLM;
  tokenizer: Tokenizer;
  rewards: readonly Reward[];
  loss: PolicyLoss;
  step: ReturnType<typeof createLossStep>;
  rollout: RolloutOptions;
  /** KL coefficient; 0 turns the penalty off (the reference pass still feeds probe rewards). */
  beta: number;
  scaleByStd: boolean;
  innerEpochs: number;
  /**
   * The recipe's interventions (hooks only), applied to the policy's training passes: the
   * old-log-prob pass and every loss pass, so the PPO ratio compares like with like. Never
   * to the frozen pass, and not to rollout sampling (generation runs as at inference).
   */
  forward?: Pick<ForwardOptions, 'hooks'>;
  /** The recipe's memory settings for the loss passes (chunked-ce.ts, recompute); default auto, off. */
  memory?: { ceChunk: number | 'auto'; recompute: boolean };
}

export interface RlStepResult {
  /** train/*, rewards/* and time/* metrics. */
  metrics: Record<string, number>;
  /** The gradient transforms' `gradients/<name>/<key>` from the step's last update. */
  stats: Record<string, number>;
  /**
   * Set when an update was skipped (NaN or infinite gradients or loss): the tensors named.
   * The step's remaining inner epochs are not run; the loop counts the step as skipped.
   */
  nonFinite?: string[];
}

/** Runs one RL step on `items`; `stats: false` when its transform stats will not be logged. */
export async function rlStep(o: RlStepOptions, items: PromptItem[], lr?: number, stepNo?: number, stats = true): Promise<RlStepResult> {
  const t0 = performance.now();
  const { batch, interventions } = rollout(o.policy, o.tokenizer, items, o.rollout);
  const tGen = performance.now();
  const frozen = frozenPass(o.frozen, batch, o.rewards, o.memory?.ceChunk);
  const ids = tf.tensor2d(batch.ids, [batch.R, batch.T], 'int32');
  const mask = tf.tensor2d(batch.mask, [batch.R, batch.T - 1]);
  const policyHooks = rewardHooks(o.rewards, 'policy');
  // The no-grad policy pass: old log-probs and entropy, the output head chunked as in the loss pass.
  const pol = o.policy.forwardHidden(ids, { hooks: o.forward?.hooks, cache: policyHooks });
  const { logprobs: oldLogprobs, entropy: entropyRows } = noGradLogprobs(o.policy, pol.hidden, ids, ceChunkRows(o.policy.config.vocabSize, o.memory?.ceChunk), true);
  const entropy = maskedMean(entropyRows!, mask);
  tf.dispose([pol.hidden, entropyRows!]);
  try {
    const tR = performance.now();
    const scored = await scoreRewards(o.rewards, batch, { frozen, policy: pol.cache }, stepNo);
    const tRewards = performance.now() - tR;
    // [R, 1], or [R, T-1] when a reward is per token (token-advantages.ts).
    const adv = advantagesOf(scored, batch, o.rollout.G, o.scaleByStd);
    let kl = 0, clipFrac = 0, loss = 0;
    let last: StepResult | undefined;
    for (let e = 0; e < o.innerEpochs; e++) {
      const keep: tf.Tensor[] = [];
      const r = o.step(() => {
        const lp = chunkedTokenLogprobs(o.policy, ids, { hooks: o.forward?.hooks, recompute: o.memory?.recompute }, o.memory?.ceChunk);
        const { loss: pg, clipped } = o.loss.perToken({ logprobs: lp, oldLogprobs, adv });
        const klTok = k3(lp, frozen.refLogprobs);
        keep.push(tf.keep(tokenMean(klTok, mask)), tf.keep(tokenMean(clipped, mask)));
        return tf.add(tokenMean(pg, mask), tf.mul(o.beta, tokenMean(klTok, mask))) as tf.Scalar;
      }, lr, stats);
      [kl, clipFrac] = keep.map((x) => x.dataSync()[0]!) as [number, number];
      tf.dispose(keep);
      loss = r.loss;
      last = r;
      if (r.nonFinite) break;
    }
    adv.dispose();
    const lens = batch.completions.map((c) => c.length);
    const metrics = {
      'train/loss': loss,
      'train/kl': kl,
      'train/clip_frac': clipFrac,
      'train/entropy': entropy,
      'train/response_length': lens.reduce((a, b) => a + b, 0) / lens.length,
      'train/interventions': interventions,
      'time/rollout_s': (tGen - t0) / 1000,
      'time/rewards_s': tRewards / 1000,
      'time/step_s': (performance.now() - t0) / 1000,
      ...scored.metrics,
    };
    return { metrics, stats: last!.stats, nonFinite: last!.nonFinite };
  } finally {
    tf.dispose([ids, mask, oldLogprobs, frozen.refLogprobs]);
    frozen.cache.dispose();
    pol.cache.dispose();
  }
}

/** The recipe's trainer, which the RL loop needs to be `rl` (train.ts dispatches on kind). */
function rlTrainer(recipe: RlLoopOptions['recipe']): Extract<RlLoopOptions['recipe']['trainer'], { kind: 'rl' }> {
  if (recipe.trainer.kind !== 'rl') throw new Error(`internal: the RL loop got a ${recipe.trainer.kind} trainer`);
  return recipe.trainer;
}
