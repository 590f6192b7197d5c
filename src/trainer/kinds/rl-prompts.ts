/**
 * The RL prompt check, written once. A rollout keeps only a prompt's last
 * n_ctx − max_new_tokens tokens (room for the answer), so a longer prompt would silently lose
 * its start, and RL would train on prompts the model never saw whole. That is an error naming
 * the file and the longest prompt, before any backend loads.
 *
 * Validation runs it (recipe/check.ts) whenever the fields it reads parse: the model's n_ctx,
 * trainer.kind rl, trainer.max_new_tokens and data.train.path, even when another trainer
 * field has a type error. The RL trainer runs it again on data.eval's prompts, and for
 * recipes built in code (trainer/rl.ts).
 */
import { z } from 'zod';
import { loadPromptData, promptIds, type PromptData } from '../../data/prompts.ts';
import { readOrReport } from '../../registry/check-helpers.ts';
import type { CheckContext } from '../../registry/kinds.ts';
import { rlFields } from './rl-fields.ts';

/** What to do about prompts that do not fit. */
export const PROMPT_ROOM_HINT = 'lower trainer.max_new_tokens, shorten the prompts, or use a model with a longer n_ctx';

/** The problem with `prompts` (read from `file`) when some leave no room for the answer; undefined when all fit. */
export function promptRoomProblem(prompts: readonly PromptData[], tok: Parameters<typeof promptIds>[1], nCtx: number, maxNewTokens: number, file: string): string | undefined {
  const room = nCtx - maxNewTokens;
  let worst = { record: 0, tokens: 0 };
  let over = 0;
  // One pass, no spread into Math.max: a large file would overflow the call stack.
  prompts.forEach((p, i) => {
    const n = promptIds(p, tok).length;
    if (n > room) over++;
    if (n > worst.tokens) worst = { record: i + 1, tokens: n };
  });
  if (!over) return undefined;
  return `${file}: ${over} prompt${over > 1 ? 's are' : ' is'} longer than the ${room} tokens a rollout leaves (model n_ctx ${nCtx} − trainer.max_new_tokens ${maxNewTokens}); the longest, record ${worst.record}, is ${worst.tokens} tokens`;
}

/** The trainer fields the check reads, each parsed on its own so another field's type error does not hide it. */
const rlTrainerFields = z.object({ kind: z.literal('rl'), max_new_tokens: rlFields.max_new_tokens });

/**
 * Reports data.train's prompts that do not fit. `trainer` is the recipe's trainer section as
 * written (its other fields may be invalid); the model and data come from `ctx`.
 */
export function checkRlPrompts(trainer: unknown, ctx: CheckContext): void {
  const t = rlTrainerFields.safeParse(trainer);
  const train = ctx.recipe.data?.train;
  const { model, tokenizer } = ctx;
  if (!t.success || !train || !model || !tokenizer) return;
  const nCtx = model.config.nCtx;
  if (t.data.max_new_tokens >= nCtx) return; // no room at all: the rl kind's own check says so
  const where = ['data', 'train', 'path'];
  // Messages lines are rendered here too, so a template that fails is reported before a backend loads.
  const prompts = readOrReport(() => loadPromptData(train.path, tokenizer), where, ctx);
  if (!prompts) return;
  const problem = promptRoomProblem(prompts, tokenizer, nCtx, t.data.max_new_tokens, train.path);
  if (problem) ctx.report(where, `${problem}; ${PROMPT_ROOM_HINT}`);
}
