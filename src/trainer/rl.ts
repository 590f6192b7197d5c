/**
 * The RL loop (GRPO-shaped, like nanochat's chat_rl.py): prompts → rlStep → metrics, with
 * checkpoints and SIGINT as in SFT. Differs from plain GRPO in what the reward can read:
 * probe rewards score the frozen copy's activations from the same forward pass that gives
 * the KL reference, and an optional runtime intervention inserts tokens mid-rollout.
 */
import { BonsaiError } from '../errors.ts';
import { readRecords } from '../data/records.ts';
import { probeIntervention } from '../probes/intervene.ts';
import { loadRecipeProbes } from '../probes/recipe.ts';
import { buildRewards } from '../rewards/build.ts';
import type { GradientTransform } from '../gradients/index.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { Recipe } from '../recipe/schema.ts';
import type { Tracker } from '../tracking/index.ts';
import { Rng } from '../util/rng.ts';
import { buildOptimizer, scheduleOf } from './build.ts';
import { refuseExistingCheckpoints, saveTrainingCheckpoint } from './checkpoint.ts';
import { createLossStep } from './loss-step.ts';
import { cispo, clippedPg } from './rl-loss.ts';
import { rlStep } from './rl-step.ts';
import type { PromptItem } from './rollout.ts';
import { lrAt } from './schedule.ts';
import type { LoopEvents, SftResult } from './sft.ts';

export interface RlLoopOptions extends LoopEvents {
  recipe: Recipe;
  model: HookedTransformer;
  tokenizer: Tokenizer;
  transforms: GradientTransform[];
  tracker: Tracker;
  recipeYaml: string;
  stopAfter?: number;
  interrupt?: { requested: boolean };
  runId?: string;
}

/** RL prompts: JSONL {prompt, completion?}; the completion, when present, is the reference answer. */
export function loadPrompts(path: string): PromptItem[] {
  return readRecords(path, { prompt: 'string' }, { completion: 'string' }).map((r) => ({ prompt: r.prompt as string, answer: r.completion as string | undefined }));
}

export async function runRl(o: RlLoopOptions): Promise<SftResult> {
  const { recipe, model, tokenizer: tok, tracker } = o;
  const t = recipe.trainer;
  if (t.kind !== 'rl') throw new Error('internal: runRl needs an rl trainer');
  refuseExistingCheckpoints(recipe.run.out_dir);
  const frozen = model.frozenCopy();
  const probes = loadRecipeProbes(recipe, frozen);
  const rewards = await buildRewards(recipe, probes);
  const optimizer = buildOptimizer(t);
  const stopTokens = [tok.eosId, ...t.stop.map((s) => {
    const ids = tok.encode(s);
    if (ids.length !== 1) throw new BonsaiError(`trainer.stop: "${JSON.stringify(s)}" is ${ids.length} tokens; each stop text must be one token`);
    return ids[0]!;
  })];
  const rng = new Rng(recipe.run.seed + 1);
  const iv = t.intervention ? probeIntervention({ frozen, probe: probes.get(t.intervention.probe)!, tokens: tok.encode(t.intervention.insert), maxPerSequence: t.intervention.max_per_sequence }) : undefined;
  const step = createLossStep({ model, optimizer, transforms: o.transforms });
  const prompts = loadPrompts(recipe.data.train.path);
  const order = new Rng(recipe.run.seed).shuffle(prompts.map((_, i) => i));
  const schedule = scheduleOf(t);
  let cursor = 0;
  let last: Record<string, number> = {};
  const save = (s: number) =>
    saveTrainingCheckpoint(recipe.run.out_dir, recipe.checkpoint.keep, {
      config: model.config, tokenizer: tok.kind, weights: model.valuesSync(),
      optimizer: optimizer.stateSync().tensors,
      // The prompt position in BatcherState's terms (RL resume is not implemented yet; this records where it stopped).
      state: { step: s, optimizerT: optimizer.t,
        batcher: { epoch: Math.floor(cursor / order.length), cursor: cursor % order.length, size: order.length, seed: recipe.run.seed }, rng: rng.state(), runId: o.runId },
      recipeYaml: o.recipeYaml,
    });
  try {
    for (let s = 1; s <= t.steps; s++) {
      const items = Array.from({ length: t.batch_size }, () => prompts[order[cursor++ % order.length]!]!);
      const lr = lrAt(s, t.steps, t.optimizer.lr, schedule);
      last = await rlStep(
        { policy: model, frozen, tokenizer: tok, rewards, loss: t.loss.kind === 'cispo' ? cispo(t.loss.epsilon_high) : clippedPg(t.loss.epsilon),
          step, rollout: { G: t.group_size, maxNewTokens: t.max_new_tokens, temperature: t.temperature, topP: t.top_p, stopTokens, rng, insert: iv?.insert },
          beta: t.kl_beta, scaleByStd: t.advantage.scale_by_std, innerEpochs: t.inner_epochs },
        items, lr, s,
      );
      o.onStep?.(s, t.steps, { loss: last['train/loss']!, lr, tokensPerSec: 0 });
      if (s % t.log_every === 0 || s === t.steps) tracker.logMetrics(s, { ...last, 'train/lr': lr });
      if (s % t.log_every === 0) o.onLog?.(`step ${s}: reward ${last['rewards/total/mean']!.toFixed(3)} kl ${last['train/kl']!.toFixed(4)} len ${last['train/response_length']!.toFixed(1)}`);
      await new Promise<void>((r) => setImmediate(r));
      const stopping = s === o.stopAfter || o.interrupt?.requested === true;
      if (stopping && s < t.steps) return { step: s, finalLoss: last['train/loss']!, interrupted: true, checkpoint: save(s) };
      if (recipe.checkpoint.every > 0 && s % recipe.checkpoint.every === 0 && s < t.steps) save(s);
    }
    return { step: t.steps, finalLoss: last['train/loss']!, interrupted: false, checkpoint: save(t.steps) };
  } finally {
    rewards.forEach((r) => r.dispose?.());
    probes.forEach((p) => p.dispose());
    optimizer.dispose();
    frozen.dispose();
  }
}
