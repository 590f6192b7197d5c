/**
 * Rollouts: G samples per prompt from the policy, laid out as one right-padded batch
 * (prompt + completion) that the frozen pass, the policy pass and the loss all share.
 */
import { BonsaiError } from '../errors.ts';
import { promptIds } from '../data/prompts.ts';
import { generate, type GenerateOptions } from '../models/generate.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { RolloutBatch } from '../rewards/types.ts';

/** One prompt of an RL dataset: the text, and the reference answer when the task has one. */
export interface PromptItem {
  prompt: string;
  /** The prompt's ids when they are not the plain text's model input: a chat rendered with its special tokens (data/prompts.ts). */
  ids?: number[];
  answer?: string;
}

export interface RolloutOptions extends Omit<GenerateOptions, 'forward'> {
  /** Samples per prompt (the GRPO group size). */
  G: number;
}

/** Samples G completions per prompt; rollouts of prompt i are rows [i·G, (i+1)·G). */
export function rollout(policy: CausalLM, tok: Tokenizer, items: PromptItem[], o: RolloutOptions): { batch: RolloutBatch; interventions: number } {
  const nCtx = policy.config.nCtx;
  if (o.maxNewTokens >= nCtx) throw new BonsaiError(`rl max_new_tokens (${o.maxNewTokens}) must be below the model's context (${nCtx})`);
  // A prompt that does not leave room for the completion is refused, never cut: a cut prompt
  // would train the policy on text it never saw whole (recipe runs check this up front too).
  const room = nCtx - o.maxNewTokens;
  const prompts = items.flatMap((it, i) => {
    const ids = promptIds(it, tok);
    if (ids.length > room) {
      throw new BonsaiError(
        `rollout: prompt ${i} is ${ids.length} tokens, longer than the ${room} a rollout leaves (n_ctx ${nCtx} − maxNewTokens ${o.maxNewTokens})`,
        { hint: 'shorten the prompt, lower maxNewTokens, or use a model with a longer n_ctx' },
      );
    }
    return Array.from({ length: o.G }, () => (ids.length ? ids : [tok.eosId]));
  });
  const gen = generate(policy, prompts, o);
  const R = prompts.length;
  const T = Math.max(...prompts.map((p, r) => p.length + gen.tokens[r]!.length));
  const ids = new Int32Array(R * T);
  const mask = new Float32Array(R * (T - 1));
  prompts.forEach((p, r) => {
    ids.set(p, r * T);
    ids.set(gen.tokens[r]!, r * T + p.length);
    // Target position t predicts ids[t+1]; only sampled completion tokens carry the loss
    // (inserted tokens were not the policy's choice).
    gen.tokens[r]!.forEach((_, k) => {
      if (!gen.inserted[r]![k]) mask[r * (T - 1) + p.length + k - 1] = 1;
    });
  });
  const batch: RolloutBatch = {
    ids,
    R,
    T,
    promptLens: prompts.map((p) => p.length),
    completions: gen.tokens,
    texts: gen.tokens.map((c) => tok.decode(c)),
    prompts: items.flatMap((it) => Array.from({ length: o.G }, () => it.prompt)),
    answers: items.flatMap((it) => Array.from({ length: o.G }, () => it.answer)),
    mask,
  };
  return { batch, interventions: gen.interventions.reduce((a, b) => a + b, 0) };
}
