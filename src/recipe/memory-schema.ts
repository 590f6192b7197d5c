/**
 * The `memory:` section: how a train step trades compute for memory, and the limit the
 * pre-step check holds it to (trainer/memory-budget.ts; docs/memory.md).
 */
import { z } from 'zod';
import { positiveInt } from '../registry/fields.ts';

export const memorySchema = z
  .strictObject({
    ce_chunk: z
      .union([z.literal('auto'), positiveInt()])
      .default('auto')
      .describe('Tokens per cross-entropy chunk: the loss unembeds this many positions at a time and recomputes their logits in the backward pass, so the whole [batch, seq_len, vocab] logits never exist. auto: 2^24 / vocabulary (64 MB of logits per chunk).'),
    recompute: z
      .boolean()
      .default(false)
      .describe("Recompute each block's activations in the backward pass instead of keeping them (gradient checkpointing): about one more forward pass of compute for one block's activations instead of all."),
    budget_mb: z
      .number()
      .positive()
      .optional()
      .describe("Memory a train step may use, in MB (10^6 bytes). Default: the backend's limit (wasm: its 4 GiB heap maximum; cpu and tensorflow: this machine's RAM; webgpu: unchecked)."),
  })
  .prefault({})
  .describe('Memory: chunked cross-entropy, activation recomputation, and the limit checked before the first step.');
