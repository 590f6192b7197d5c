/**
 * The recipe's `lora:` section: schema and checks (pure JS: no tfjs, like every kind table).
 * Under lora, the parameter globs elsewhere in the recipe (freeze, gradients.params) name
 * adapter paths (`blocks.0.attn.W_Q.lora_A`): those are what trains. `loraLayout` gives the
 * checks that view of the model.
 */
import { z } from 'zod';
import { globToRegExp } from '../util/glob.ts';
import type { ModelLayout } from '../models/layout.ts';
import { existingDirectory, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import { kind, kindTable, type CheckContext } from '../registry/kinds.ts';
import { nearest } from '../registry/suggest.ts';
import type { PathSegment } from '../registry/kinds.ts';
import { isLoraTargetable } from './settings.ts';

export const loraSchema = z
  .strictObject({
    r: positiveInt().default(8).describe('Rank of each adapter.'),
    alpha: z.number().positive().default(16).describe('Scale numerator: updates are (alpha / r)·B·A (alpha / √r with rslora).'),
    dropout: z.number().min(0).lt(1).default(0).describe('Dropout on the adapters\' input in training passes (see docs/lora.md for how it differs from PEFT\'s).'),
    targets: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Parameter-path globs of the weights that get adapters, e.g. ["blocks.*.attn.W_Q", "blocks.*.attn.W_V"]. Required unless `from` is given.'),
    rslora: z.boolean().default(false).describe('Rank-stabilised scaling alpha / √r (PEFT\'s use_rslora).'),
    from: existingDirectory()
      .optional()
      .describe(`A PEFT adapter directory (adapter_config.json + adapter_model.safetensors) to start from; its r, alpha, rslora and modules replace the fields above. ${PATH_NOTE}`),
  })
  .refine((l) => (l.targets === undefined) !== (l.from === undefined), {
    message: 'give lora.targets (new adapters) or lora.from (a PEFT adapter directory), exactly one',
  })
  .describe('Train LoRA adapters instead of the weights: the base stays bit-identical; checkpoints hold PEFT adapter files. docs/lora.md.');

export type LoraSection = z.output<typeof loraSchema>;

/** The targetable paths `glob` matches on `model`. */
export function loraTargets(globs: readonly string[], params: ReadonlyMap<string, readonly number[]>): string[] {
  const res = globs.map(globToRegExp);
  return [...params].filter(([path, shape]) => isLoraTargetable(path, shape) && res.some((re) => re.test(path))).map(([path]) => path);
}

/** Reports each target glob that selects no adaptable weight, naming the nearest paths. */
export function checkLoraTargets(globs: readonly string[], at: readonly PathSegment[], ctx: CheckContext): void {
  const model = ctx.model;
  if (!model) return;
  const targetable = [...model.params].filter(([p, s]) => isLoraTargetable(p, s)).map(([p]) => p);
  globs.forEach((glob, i) => {
    if (loraTargets([glob], model.params).length) return;
    const matchesOther = [...model.params.keys()].some((p) => globToRegExp(glob).test(p));
    const why = matchesOther ? 'matches only parameters that cannot carry an adapter (embeddings, biases, norms)' : 'matches no parameter';
    const near = nearest(glob, targetable);
    ctx.report([...at, i], `"${glob}" ${why}; nearest adaptable paths: ${near.map((g) => `"${g}"`).join(', ')} ("*" matches anything, dots included)`);
  });
}

/**
 * The model as the other checks should see it under lora: the same hooks, and as parameters
 * the adapters (`<path>.lora_A` [r, in], `<path>.lora_B` [out, r]) of the targeted weights.
 */
export function loraLayout(model: ModelLayout, l: LoraSection): ModelLayout {
  if (!l.targets) return model; // adapters from a file: their modules are known once it is read
  const params = new Map<string, readonly number[]>();
  for (const path of loraTargets(l.targets, model.params)) {
    const [inDim, outDim] = model.params.get(path)!;
    params.set(`${path}.lora_A`, [l.r, inDim!]).set(`${path}.lora_B`, [outDim!, l.r]);
  }
  return params.size ? { ...model, params } : model;
}

/** The lora section as a component (recipe/components.ts): one kind, the section itself. */
export const loraKinds = kindTable({
  lora: kind({
    schema: loraSchema,
    check: (l, at, ctx) => {
      if (l.targets) checkLoraTargets(l.targets, [...at, 'targets'], ctx);
    },
  }),
});
