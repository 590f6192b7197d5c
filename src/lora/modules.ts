/**
 * Which Hugging Face module each adaptable bonsai weight is, for PEFT's file names
 * (`base_model.model.<module>.lora_A.weight`), read from the model family's tensor table:
 * every 2-D linear weight is a module. A module may hold several bonsai weights stacked along
 * its output: GPT-2's fused c_attn is [W_Q | W_K | W_V]. `fanInFanOut`: the HF weight is
 * stored [in, out] (GPT-2's Conv1D); PEFT's lora_A/lora_B shapes are the same.
 */
import { familyOf } from '../models/families/index.ts';
import { hfTensorSpecs } from '../models/families/tensors.ts';
import type { LMConfig } from '../models/lm-config.ts';

export interface PeftModule {
  /** transformers' module path, e.g. `transformer.h.0.attn.c_attn`, `model.layers.0.self_attn.q_proj`. */
  name: string;
  /** The last name part, what `target_modules` lists (`c_attn`, `q_proj`). */
  suffix: string;
  fanInFanOut: boolean;
  inDim: number;
  /** The bonsai weights in output order, each owning out rows [offset, offset + outDim). */
  parts: Array<{ path: string; offset: number; outDim: number }>;
}

/**
 * Every module a PEFT adapter can target on a model with this config. GPT-NeoX's fused
 * query_key_value interleaves q, k and v head by head, so no adapter part maps onto it.
 */
export function peftModules(config: LMConfig): PeftModule[] {
  const family = familyOf(config);
  const out: PeftModule[] = [];
  for (const [name, spec] of hfTensorSpecs(config)) {
    if (spec.shape.length !== 2 || !['linear', 'conv1d', 'columns'].includes(spec.kind)) continue;
    const module = family.peftModule?.(name) ?? name.replace(/\.weight$/, '');
    const fanInFanOut = spec.kind !== 'linear';
    const [inDim, outTotal] = fanInFanOut ? [spec.shape[0]!, spec.shape[1]!] : [spec.shape[1]!, spec.shape[0]!];
    const outDim = outTotal / spec.paths.length;
    const parts = spec.paths.map((path, p) => ({ path, offset: p * outDim, outDim }));
    out.push({ name: module, suffix: module.split('.').pop()!, fanInFanOut, inDim, parts });
  }
  return out;
}
