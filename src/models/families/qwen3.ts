/**
 * Qwen3 (`Qwen3ForCausalLM`): Llama's block with an RMSNorm on each head's q and k before
 * RoPE; head_dim is given explicitly. Sliding windows as Qwen2's (`use_sliding_window`).
 */
import type { DecoderConfig, Family } from './family.ts';
import { layerTypesJson, readWindow, type HfFields } from './fields.ts';
import { LLAMA_STYLE_FIELDS, llamaStyleJson, llamaStyleScratch, llamaStyleTensors, readLlamaStyle } from './llama-style.ts';

export const qwen3: Family = {
  name: 'qwen3',
  modelTypes: ['qwen3'],
  architectures: ['Qwen3ForCausalLM'],
  summary: 'as Llama, plus RMSNorm on each head q and k before RoPE',
  readConfig(f) {
    const c = readLlamaStyle(f, { ropeTheta: 10000, rmsNormEps: 1e-6, tied: false, activations: { silu: 'silu' } });
    const window = qwenWindow(f, c.nLayers, c.nCtx);
    return { ...c, qkNorm: 'head', ...(window ? { window } : {}) };
  },
  writeConfig: (c) => ({ ...llamaStyleJson(qwen3, c, { hidden_act: 'silu' }), ...qwenWindowJson(c) }),
  scratchConfig: (r) => llamaStyleScratch(qwen3, r, { hidden_act: 'silu' }),
  recipeFields: LLAMA_STYLE_FIELDS,
  tensors: llamaStyleTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/],
};

/** Qwen's window: off unless use_sliding_window; then layers i ≥ max_window_layers (or layer_types) slide. */
export function qwenWindow(f: HfFields, nLayers: number, maxPositions: number): DecoderConfig['window'] {
  if (!f.bool('use_sliding_window', false)) return undefined;
  const from = f.get('max_window_layers', 28) as number;
  return readWindow(f, nLayers, maxPositions, (i) => i >= from);
}

export function qwenWindowJson(c: DecoderConfig): Record<string, unknown> {
  if (!c.window) return { use_sliding_window: false };
  return { use_sliding_window: true, sliding_window: c.window.size, layer_types: layerTypesJson(c.window, c.nLayers) };
}
