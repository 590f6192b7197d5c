/**
 * Which Hugging Face module each adaptable bonsai weight is, for PEFT's file names
 * (`base_model.model.<module>.lora_A.weight`). A module may hold several bonsai weights
 * stacked along its output: GPT-2's fused c_attn is [W_Q | W_K | W_V]. `fanInFanOut`: the
 * HF weight is stored [in, out] (GPT-2's Conv1D); PEFT's lora_A/lora_B shapes are the same.
 */
import type { ModelConfig } from '../models/config.ts';
import type { DecoderConfig } from '../models/families/config.ts';
import { hfTensorSpecs } from '../models/families/names.ts';

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

/** Every module a PEFT adapter can target on a model with this config. */
export function peftModules(config: ModelConfig | DecoderConfig): PeftModule[] {
  return 'family' in config && config.family !== ('gpt2' as string) ? familyModules(config as DecoderConfig) : gpt2Modules(config as ModelConfig);
}

/** GPT-2 (GPT2LMHeadModel): Conv1D layers, q/k/v fused in c_attn; lm_head an nn.Linear. */
function gpt2Modules(c: ModelConfig): PeftModule[] {
  const { dModel: D, dMlp: M } = c;
  const conv = (name: string, inDim: number, parts: Array<[string, number]>): PeftModule => {
    let offset = 0;
    const ps = parts.map(([path, outDim]) => ({ path, offset: (offset += outDim) - outDim, outDim }));
    return { name, suffix: name.split('.').pop()!, fanInFanOut: true, inDim, parts: ps };
  };
  const out: PeftModule[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const h = `transformer.h.${i}`;
    const b = `blocks.${i}`;
    out.push(
      conv(`${h}.attn.c_attn`, D, [[`${b}.attn.W_Q`, D], [`${b}.attn.W_K`, D], [`${b}.attn.W_V`, D]]),
      conv(`${h}.attn.c_proj`, D, [[`${b}.attn.W_O`, D]]),
      conv(`${h}.mlp.c_fc`, D, [[`${b}.mlp.W_in`, M]]),
      conv(`${h}.mlp.c_proj`, M, [[`${b}.mlp.W_out`, D]]),
    );
  }
  if (!c.tiedEmbeddings) out.push({ name: 'lm_head', suffix: 'lm_head', fanInFanOut: false, inDim: D, parts: [{ path: 'unembed.W_U', offset: 0, outDim: c.vocabSize }] });
  return out;
}

/** Llama-style families: every nn.Linear is one bonsai weight (names.ts's transposed tensors). */
function familyModules(c: DecoderConfig): PeftModule[] {
  const out: PeftModule[] = [];
  for (const [name, spec] of hfTensorSpecs(c)) {
    if (spec.kind !== 'transpose' || !name.endsWith('.weight')) continue; // GPT-NeoX's fused qkv is interleaved per head: not mapped
    const module = name.slice(0, -'.weight'.length);
    const [outDim, inDim] = spec.shape as [number, number];
    out.push({ name: module, suffix: module.split('.').pop()!, fanInFanOut: false, inDim, parts: [{ path: spec.path, offset: 0, outDim }] });
  }
  return out;
}
