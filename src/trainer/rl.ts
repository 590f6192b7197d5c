/**
 * The RL loop (GRPO-shaped, like nanochat's chat_rl.py): prompts → rlStep → metrics, with
 * checkpoints and SIGINT as in SFT. Differs from plain GRPO in what the reward can read:
 * probe rewards score the frozen copy's activations from the same forward pass that gives
 * the KL reference, and an optional runtime intervention inserts tokens mid-rollout.
 * The recipe's `freeze` and `interventions` apply as in SFT (see RlLoopOptions); `--resume`
 * continues from the newest checkpoint (rl-resume.ts).
 */
import { BonsaiError } from '../errors.ts';
import { loadPromptData, promptIds } from '../data/prompts.ts';
import { renderedTailIds } from '../models/input-ids.ts';
import { probeIntervention } from '../probes/intervene.ts';
import { loadRecipeProbes } from '../probes/recipe.ts';
import { buildRewards } from '../rewards/build.ts';
import type { GradientTransform } from '../gradients/transform.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import { createTokenizer, endOfSequenceIds, type Tokenizer } from '../models/tokenizer.ts';
import { buildOptimizer } from './build.ts';
import { createLossStep } from './loss-step.ts';
import { runLoop, type LoopOptions, type LoopTrainer } from './loop.ts';
import { buildRlLoss } from './rl-loss.ts';
import { evaluateRl } from './rl-eval.ts';
import { PromptCursor, restoreRlState, type RlState } from './rl-resume.ts';
import { rlStep } from './rl-step.ts';
import { frozenReference } from '../lora/attach.ts';
import type { PromptItem } from './rollout.ts';
import type { SftResult } from './sft.ts';

/** The loop's options (loop.ts: resume, stop, freezing, tracking) less what the RL trainer builds itself. */
export interface RlLoopOptions extends Omit<LoopOptions<Record<string, number>>, 'optimizer' | 'plan' | 'trainer'> {
  /** The recipe's gradient transforms, in order; disposed when the run ends. */
  transforms: GradientTransform[];
  /** The recipe's interventions, for the policy's training passes only (rl-step.ts says which). */
  forward?: Pick<ForwardOptions, 'hooks'>;
  /** data.train's prompts as loadPrompts reads them, when the caller has them already (trainRl, for its memory check). */
  prompts?: PromptItem[];
}

/**
 * RL prompts: JSONL {prompt, completion?} or {messages, completion?} (rendered with the
 * model's chat template: data/prompts.ts); the completion, when present, is the reference answer.
 */
export function loadPrompts(path: string, tok: Tokenizer = createTokenizer('byte')): PromptItem[] {
  // Without a tokenizer (scripts reading {prompt} files) messages lines are refused: byte has no template.
  return loadPromptData(path, tok);
}

/**
 * A rollout keeps only a prompt's last n_ctx − max_new_tokens tokens (room for the answer), so
 * a longer prompt would silently lose its start — RL would then train on prompts the model
 * never saw whole. That is an error naming the file and the longest prompt, before any step.
 */
export function checkPromptRoom(prompts: readonly PromptItem[], tok: Tokenizer, nCtx: number, maxNewTokens: number, file: string): void {
  const room = nCtx - maxNewTokens;
  let worst = { record: 0, tokens: 0 };
  let over = 0;
  prompts.forEach((p, i) => {
    const n = promptIds(p, tok).length;
    if (n > room) over++;
    if (n > worst.tokens) worst = { record: i + 1, tokens: n };
  });
  if (over) {
    throw new BonsaiError(
      `${file}: ${over} prompt${over > 1 ? 's are' : ' is'} longer than the ${room} tokens a rollout leaves (model n_ctx ${nCtx} − trainer.max_new_tokens ${maxNewTokens}); the longest, record ${worst.record}, is ${worst.tokens} tokens`,
      { hint: 'lower trainer.max_new_tokens, shorten the prompts, or train a model with a longer n_ctx' },
    );
  }
}

/**
 * The RL trainer on the loop driver (loop.ts): its step draws batch_size prompts and runs
 * rlStep; its state is the prompt cursor and the reference's fingerprint (rl-resume.ts).
 */
export async function runRl(o: RlLoopOptions): Promise<SftResult> {
  const { recipe, model, tokenizer: tok } = o;
  const t = recipe.trainer;
  if (t.kind !== 'rl') throw new Error('internal: runRl needs an rl trainer');
  const prompts = o.prompts ?? loadPrompts(recipe.data.train.path, tok);
  checkPromptRoom(prompts, tok, model.config.nCtx, t.max_new_tokens, recipe.data.train.path);
  const evalPrompts = recipe.data.eval ? loadPrompts(recipe.data.eval.path, tok) : [];
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
    return { step: r.step, finalLoss: r.finalLoss, interrupted: r.interrupted, checkpoint: r.checkpoint };
  } finally {
    rewards?.forEach((r) => r.dispose?.());
    probes?.forEach((p) => p.dispose());
    optimizer.dispose();
    for (const tr of o.transforms) tr.dispose?.();
    frozen.dispose();
  }
}
