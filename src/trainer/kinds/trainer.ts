/**
 * Trainer kinds (the recipe's `trainer` section): schema and checks of each. What runs
 * each kind is the runner table in trainer/train.ts (sft.ts, rl.ts).
 */
import { z } from 'zod';
import { chatSegments } from '../../data/chat.ts';
import { renderedTailIds } from '../../models/input-ids.ts';
import { parseJsonl, type JsonlRecord } from '../../data/jsonl.ts';
import { readDataFile } from '../../data/load.ts';
import { readOrReport } from '../../registry/check-helpers.ts';
import { nonNegativeInt, positiveInt } from '../../registry/fields.ts';
import { kind, kindTable, kindUnion, type CheckContext } from '../../registry/kinds.ts';
import { rlFields } from './rl-fields.ts';
import { checkProbeName } from '../../rewards/kinds.ts';
import { optimizerSchema, scheduleSchema } from './optimizer.ts';

/** Every trainer kind. */
export const trainerKinds = kindTable({
  sft: kind({
    schema: z
      .strictObject({
        kind: z.literal('sft').describe('Supervised fine-tuning with next-token cross-entropy.'),
        steps: positiveInt().describe('Optimizer steps to train for.'),
        batch_size: positiveInt().describe('Sequences per micro-batch.'),
        grad_accum: positiveInt().default(1).describe('Micro-batches whose gradients are summed per optimizer step.'),
        optimizer: optimizerSchema,
        schedule: scheduleSchema,
        eval: z
          .strictObject({
            every: nonNegativeInt().default(0).describe('Evaluate every this many steps; 0 evaluates only at the end.'),
            batches: positiveInt().default(8).describe('Eval batches per evaluation.'),
          })
          .prefault({})
          .describe('Evaluation on the eval split during training.'),
        log_every: positiveInt().default(10).describe('Log training metrics every this many steps.'),
        max_nonfinite_steps: positiveInt()
          .default(5)
          .describe('Steps with NaN or infinite gradients are skipped and counted; this many in a row stops the run.'),
      })
      .describe('Supervised fine-tuning.'),
    check: (_t, _at, ctx) => {
      checkSeqLen(ctx);
      checkChatData(ctx);
    },
  }),
  rl: kind({
    schema: z
      .strictObject({
        kind: z.literal('rl').describe('Reinforcement learning: G rollouts per prompt, weighted rewards, group-relative advantages.'),
        optimizer: optimizerSchema,
        schedule: scheduleSchema,
        ...rlFields,
      })
      .describe('RL with rewards (probe rewards read the frozen copy).'),
    check(t, at, ctx) {
      const { model, tokenizer, recipe } = ctx;
      if (recipe.rewards?.length === 0) ctx.report(['rewards'], 'an rl trainer needs at least one reward (e.g. { name: correct, kind: exact_match })');
      if (t.intervention) checkProbeName(t.intervention.probe, [...at, 'intervention', 'probe'], ctx);
      if (!model || !tokenizer) return;
      t.stop.forEach((s, i) => {
        const n = renderedTailIds(tokenizer, s).length;
        if (n !== 1) ctx.report([...at, 'stop', i], `${JSON.stringify(s)} is ${n} tokens with the ${tokenizer.kind} tokenizer; each stop text must be one token`);
      });
      const nCtx = model.config.nCtx;
      if (t.max_new_tokens >= nCtx) ctx.report([...at, 'max_new_tokens'], `must be below the model's context (n_ctx ${nCtx}), got ${t.max_new_tokens}`);
      // Whether data.train's prompts leave room for max_new_tokens is checked by checkRlPrompts (rl-prompts.ts), which runs even when another trainer field is invalid.
    },
  }),
});

/** The `trainer` section: one trainer, chosen by `kind`. */
export const trainerSchema = kindUnion(trainerKinds).describe('How the model is trained; `kind` picks the trainer.');

/**
 * SFT jsonl data with `messages` lines: each is rendered here, so a template that fails (or a
 * model without one) is reported before a backend loads. Other bad lines are left to the data
 * loader, which reports them all when the run starts.
 */
function checkChatData(ctx: CheckContext): void {
  const { tokenizer, recipe } = ctx;
  const sources = [recipe.data?.train, recipe.data?.eval].filter((d) => d?.format === 'jsonl');
  if (!tokenizer || sources.length === 0) return;
  for (const source of sources) {
    let records: JsonlRecord[];
    try {
      records = parseJsonl(readDataFile(source!.path), source!.path);
    } catch {
      continue;
    }
    const at = ['data', source === recipe.data?.train ? 'train' : 'eval', 'path'];
    for (const r of records) {
      if (r.kind !== 'messages') continue;
      // One message per file: a broken template would repeat it on every line.
      if (readOrReport(() => chatSegments(tokenizer, r.messages, `${source!.path}:${r.line}`), at, ctx) === undefined) break;
    }
  }
}

/** data.seq_len must fit the model's context; the schema checks fresh models, this the loaded ones. */
function checkSeqLen(ctx: CheckContext): void {
  const seqLen = ctx.recipe.data?.seq_len;
  const init = ctx.recipe.model?.init;
  if (seqLen === undefined || !ctx.model || !init || 'config' in init) return;
  const nCtx = ctx.model.config.nCtx;
  if (seqLen > nCtx) ctx.report(['data', 'seq_len'], `seq_len (${seqLen}) must be <= the model's n_ctx (${nCtx})`);
}
