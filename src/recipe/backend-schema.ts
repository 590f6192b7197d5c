/**
 * The `backend:` section: which TensorFlow.js backend runs, and the CPU threads it computes
 * with. Either a name (`backend: wasm`) or a mapping (`backend: { kind: wasm, threads: 2 }`).
 */
import { z } from 'zod';
import { threadsProblem } from '../backend/threads.ts';
import { positiveInt } from '../registry/fields.ts';

const kinds = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
const KIND_HELP = 'TensorFlow.js backend; auto tries tensorflow-gpu, webgpu (hardware adapters only), tensorflow, wasm, cpu in that order.';

const kindSchema = z.enum(kinds).describe(KIND_HELP);

const specSchema = z.strictObject({
  kind: kindSchema.default('auto'),
  threads: positiveInt()
    .superRefine((n, ctx) => {
      // Checked against the machine that loads the recipe (a Ray job is checked again where it runs).
      const problem = n >= 1 && threadsProblem(n); // below 1: positiveInt has said so
      if (problem) ctx.addIssue({ code: 'custom', input: n, message: problem });
    })
    .optional()
    .describe("CPU threads for the wasm backend: XNNPACK's pool and the platform BLAS its products run on (docs/backends.md). Default: this machine's physical cores. At most the CPUs this machine has; --threads on the command line wins."),
});

export const backendSchema = z
  .union([kindSchema, specSchema])
  .default('auto')
  .describe(`${KIND_HELP} As a mapping: { kind, threads }.`);

/** The `backend` section of a parsed recipe: a name, or { kind, threads }. */
export type BackendRecipe = z.output<typeof backendSchema>;

/** The section with the thread count `threads` (from --threads) in place of the recipe's own. */
export function withThreads(backend: BackendRecipe, threads: number | undefined): BackendRecipe {
  if (threads === undefined) return backend;
  return { kind: typeof backend === 'string' ? backend : backend.kind, threads };
}
