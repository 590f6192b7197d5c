/**
 * The RL loop (GRPO-shaped, like nanochat's chat_rl.py): prompts → rlStep → metrics, with
 * checkpoints and SIGINT as in SFT. Differs from plain GRPO in what the reward can read:
 * probe rewards score the frozen copy's activations from the same forward pass that gives
 * the KL reference, and an optional runtime intervention inserts tokens mid-rollout.
 * The recipe's `freeze` and `interventions` apply as in SFT (see RlLoopOptions); `--resume`
 * continues from the newest checkpoint (rl-resume.ts).
 */
import { BonsaiError } from '../errors.ts';
import { readRecords } from '../data/records.ts';
import { probeIntervention } from '../probes/intervene.ts';
import { loadRecipeProbes } from '../probes/recipe.ts';
import { buildRewards } from '../rewards/build.ts';
import type { GradientTransform } from '../gradients/index.ts';
import type { Freezer } from '../gradients/freeze.ts';
import type { ForwardOptions } from '../models/hooks.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { Recipe } from '../recipe/schema.ts';
import type { Tracker } from '../tracking/index.ts';
import { Rng } from '../util/rng.ts';
import { buildOptimizer, scheduleOf } from './build.ts';
import { saveTrainingCheckpoint } from './checkpoint.ts';
import { applyFreezer, verifyFreezer } from './design.ts';
import { createLossStep } from './loss-step.ts';
import { buildRlLoss } from './rl-loss.ts';
import { restoreRl, rlTrainingState } from './rl-resume.ts';
import { rlStep } from './rl-step.ts';
import type { PromptItem } from './rollout.ts';
import { lrAt } from './schedule.ts';
import type { LoopEvents, SftResult } from './sft.ts';

export interface RlLoopOptions extends LoopEvents {
  recipe: Recipe;
  /** The policy, holding the recipe's init weights: the frozen reference is copied from it before any resume. */
  model: HookedTransformer;
  tokenizer: Tokenizer;
  transforms: GradientTransform[];
  /** Builds the freeze masks; called after a resume has loaded the weights (as in SFT). */
  makeFreezer?: () => Freezer | undefined;
  /** The recipe's interventions, for the policy's training passes only (rl-step.ts says which). */
  forward?: Pick<ForwardOptions, 'hooks'>;
  tracker: Tracker;
  recipeYaml: string;
  /** Continue from the newest checkpoint in out_dir. */
  resume?: boolean;
  stopAfter?: number;
  interrupt?: { requested: boolean };
  runId?: string;
}

/** RL prompts: JSONL {prompt, completion?}; the completion, when present, is the reference answer. */
export function loadPrompts(path: string): PromptItem[] {
  return readRecords(path, { prompt: 'string' }, { completion: 'string' }).map((r) => ({ prompt: r.prompt as string, answer: r.completion as string | undefined }));
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
    const n = tok.encode(p.prompt).length;
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

export async function runRl(o: RlLoopOptions): Promise<SftResult> {
  const { recipe, model, tokenizer: tok, tracker } = o;
  const t = recipe.trainer;
  if (t.kind !== 'rl') throw new Error('internal: runRl needs an rl trainer');
  const prompts = loadPrompts(recipe.data.train.path);
  checkPromptRoom(prompts, tok, model.config.nCtx, t.max_new_tokens, recipe.data.train.path);
  // The reference is the init weights, copied BEFORE a resume loads the trained policy.
  const frozen = model.frozenCopy();
  const reference = frozen.fingerprint();
  const optimizer = buildOptimizer(t);
  let freezer: Freezer | undefined;
  let probes: ReturnType<typeof loadRecipeProbes> | undefined;
  let rewards: Awaited<ReturnType<typeof buildRewards>> | undefined;
  try {
    const pos = restoreRl({ recipe, model, tokenizer: tok, optimizer, reference, prompts: prompts.length, resume: o.resume, onLog: o.onLog });
    freezer = o.makeFreezer?.();
    if (freezer) applyFreezer(freezer, optimizer, tracker, pos.step, o.onLog);
    probes = loadRecipeProbes(recipe, frozen);
    rewards = await buildRewards(recipe, probes);
    const stopTokens = [tok.eosId, ...t.stop.map((s) => {
      const ids = tok.encode(s);
      if (ids.length !== 1) throw new BonsaiError(`trainer.stop: "${JSON.stringify(s)}" is ${ids.length} tokens; each stop text must be one token`);
      return ids[0]!;
    })];
    const iv = t.intervention ? probeIntervention({ frozen, probe: probes.get(t.intervention.probe)!, tokens: tok.encode(t.intervention.insert), maxPerSequence: t.intervention.max_per_sequence }) : undefined;
    const step = createLossStep({ model, optimizer, transforms: freezer ? [freezer.transform(), ...o.transforms] : o.transforms });
    const order = new Rng(recipe.run.seed).shuffle(prompts.map((_, i) => i));
    const schedule = scheduleOf(t);
    let last: Record<string, number> = {};
    const save = () =>
      saveTrainingCheckpoint(recipe.run.out_dir, recipe.checkpoint.keep, {
        config: model.config, tokenizer: tok.kind, weights: model.valuesSync(),
        optimizer: optimizer.stateSync().tensors,
        state: rlTrainingState(recipe, pos, prompts.length, optimizer, reference, o.runId),
        recipeYaml: o.recipeYaml,
      });
    while (pos.step < t.steps) {
      const s = pos.step + 1;
      const items = Array.from({ length: t.batch_size }, () => prompts[order[pos.cursor++ % order.length]!]!);
      const lr = lrAt(s, t.steps, t.optimizer.lr, schedule);
      const t0 = performance.now();
      last = await rlStep(
        { policy: model, frozen, tokenizer: tok, rewards, loss: buildRlLoss(t.loss),
          step, rollout: { G: t.group_size, maxNewTokens: t.max_new_tokens, temperature: t.temperature, topP: t.top_p, stopTokens, rng: pos.rng, insert: iv?.insert },
          beta: t.kl_beta, scaleByStd: t.advantage.scale_by_std, innerEpochs: t.inner_epochs, forward: o.forward },
        items, lr, s,
      );
      pos.step = s;
      // Sampled completion tokens per second of the whole step (rollouts, scoring and update).
      const sampled = last['train/response_length']! * t.batch_size * t.group_size;
      o.onStep?.(s, t.steps, { loss: last['train/loss']!, lr, tokensPerSec: sampled / ((performance.now() - t0) / 1000) });
      if (s % t.log_every === 0 || s === t.steps) tracker.logMetrics(s, { ...last, 'train/lr': lr });
      if (s % t.log_every === 0) o.onLog?.(`step ${s}: reward ${last['rewards/total/mean']!.toFixed(3)} kl ${last['train/kl']!.toFixed(4)} len ${last['train/response_length']!.toFixed(1)}`);
      await new Promise<void>((r) => setImmediate(r));
      const stopping = s === o.stopAfter || o.interrupt?.requested === true;
      if (stopping && s < t.steps) {
        const checkpoint = save();
        o.onLog?.(`stopped at step ${s}; checkpoint ${checkpoint}; continue with --resume`);
        return { step: s, finalLoss: last['train/loss']!, interrupted: true, checkpoint };
      }
      if (recipe.checkpoint.every > 0 && s % recipe.checkpoint.every === 0 && s < t.steps) save();
    }
    if (freezer) verifyFreezer(freezer, model, tracker, pos.step, o.onLog);
    return { step: pos.step, finalLoss: last['train/loss'] ?? NaN, interrupted: false, checkpoint: save() };
  } finally {
    rewards?.forEach((r) => r.dispose?.());
    probes?.forEach((p) => p.dispose());
    freezer?.dispose();
    optimizer.dispose();
    for (const tr of o.transforms) tr.dispose?.();
    frozen.dispose();
  }
}
