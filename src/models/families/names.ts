/**
 * Hugging Face tensor names and layouts ↔ bonsai parameter paths, per family.
 * Bonsai's layouts (params.ts) are x·W with W [in, out]; HF's nn.Linear stores [out, in],
 * so every projection is transposed on the way in. Paths:
 *   embed.W_E [V, D]; unembed.W_U [D, V] (untied only)
 *   blocks.{i}.ln1.w|b, ln2.w|b [D] (b only for LayerNorm); ln_final.w|b
 *   blocks.{i}.attn.W_Q [D, H·dh], W_K|W_V [D, KV·dh], W_O [H·dh, D]; b_Q|b_K|b_V; b_O
 *   blocks.{i}.attn.q_norm.w|k_norm.w [dh] (Qwen3)
 *   blocks.{i}.mlp.W_gate|W_in [D, M], W_out [M, D] (SwiGLU: W_in is up_proj); b_in, b_out
 * GPT-NeoX fuses q, k, v per head: query_key_value.weight [3D, D] has rows
 *   h·3dh + [0, dh) = head h's q, + [dh, 2dh) its k, + [2dh, 3dh) its v.
 */
import type { DecoderConfig } from './config.ts';

/** One HF tensor: its expected shape and how it becomes bonsai parameters. */
export interface HfTensorSpec {
  shape: number[];
  /** 'transpose': an nn.Linear weight [out, in] → [in, out]; 'copy': as is; 'neox_qkv': split per head. */
  kind: 'copy' | 'transpose' | 'neox_qkv_weight' | 'neox_qkv_bias';
  /** Bonsai path (for 'neox_qkv_*': the block's attn prefix). */
  path: string;
}

/** Every HF tensor a checkpoint of this config must hold, by name. */
export function hfTensorSpecs(c: DecoderConfig): Map<string, HfTensorSpec> {
  const { vocabSize: V, dModel: D, dMlp: M, nHeads: H, nKvHeads: KV, dHead: dh } = c;
  const specs = new Map<string, HfTensorSpec>();
  const add = (name: string, shape: number[], kind: HfTensorSpec['kind'], path: string) => specs.set(name, { shape, kind, path });
  const norm = (hf: string, path: string) => {
    add(`${hf}.weight`, [D], 'copy', `${path}.w`);
    if (c.norm === 'layer') add(`${hf}.bias`, [D], 'copy', `${path}.b`);
  };
  if (c.family === 'gpt_neox') {
    add('gpt_neox.embed_in.weight', [V, D], 'copy', 'embed.W_E');
    for (let i = 0; i < c.nLayers; i++) {
      const hf = `gpt_neox.layers.${i}`;
      const b = `blocks.${i}`;
      norm(`${hf}.input_layernorm`, `${b}.ln1`);
      norm(`${hf}.post_attention_layernorm`, `${b}.ln2`);
      add(`${hf}.attention.query_key_value.weight`, [3 * D, D], 'neox_qkv_weight', `${b}.attn`);
      add(`${hf}.attention.query_key_value.bias`, [3 * D], 'neox_qkv_bias', `${b}.attn`);
      add(`${hf}.attention.dense.weight`, [D, H * dh], 'transpose', `${b}.attn.W_O`);
      add(`${hf}.attention.dense.bias`, [D], 'copy', `${b}.attn.b_O`);
      add(`${hf}.mlp.dense_h_to_4h.weight`, [M, D], 'transpose', `${b}.mlp.W_in`);
      add(`${hf}.mlp.dense_h_to_4h.bias`, [M], 'copy', `${b}.mlp.b_in`);
      add(`${hf}.mlp.dense_4h_to_h.weight`, [D, M], 'transpose', `${b}.mlp.W_out`);
      add(`${hf}.mlp.dense_4h_to_h.bias`, [D], 'copy', `${b}.mlp.b_out`);
    }
    norm('gpt_neox.final_layer_norm', 'ln_final');
    if (!c.tiedEmbeddings) add('embed_out.weight', [V, D], 'transpose', 'unembed.W_U');
    return specs;
  }
  add('model.embed_tokens.weight', [V, D], 'copy', 'embed.W_E');
  for (let i = 0; i < c.nLayers; i++) {
    const hf = `model.layers.${i}`;
    const b = `blocks.${i}`;
    norm(`${hf}.input_layernorm`, `${b}.ln1`);
    norm(`${hf}.post_attention_layernorm`, `${b}.ln2`);
    add(`${hf}.self_attn.q_proj.weight`, [H * dh, D], 'transpose', `${b}.attn.W_Q`);
    add(`${hf}.self_attn.k_proj.weight`, [KV * dh, D], 'transpose', `${b}.attn.W_K`);
    add(`${hf}.self_attn.v_proj.weight`, [KV * dh, D], 'transpose', `${b}.attn.W_V`);
    add(`${hf}.self_attn.o_proj.weight`, [D, H * dh], 'transpose', `${b}.attn.W_O`);
    if (c.qkvBias) {
      add(`${hf}.self_attn.q_proj.bias`, [H * dh], 'copy', `${b}.attn.b_Q`);
      add(`${hf}.self_attn.k_proj.bias`, [KV * dh], 'copy', `${b}.attn.b_K`);
      add(`${hf}.self_attn.v_proj.bias`, [KV * dh], 'copy', `${b}.attn.b_V`);
    }
    if (c.qkNorm) {
      add(`${hf}.self_attn.q_norm.weight`, [dh], 'copy', `${b}.attn.q_norm.w`);
      add(`${hf}.self_attn.k_norm.weight`, [dh], 'copy', `${b}.attn.k_norm.w`);
    }
    add(`${hf}.mlp.gate_proj.weight`, [M, D], 'transpose', `${b}.mlp.W_gate`);
    add(`${hf}.mlp.up_proj.weight`, [M, D], 'transpose', `${b}.mlp.W_in`);
    add(`${hf}.mlp.down_proj.weight`, [D, M], 'transpose', `${b}.mlp.W_out`);
  }
  norm('model.norm', 'ln_final');
  if (!c.tiedEmbeddings) add('lm_head.weight', [V, D], 'transpose', 'unembed.W_U');
  return specs;
}

/** Bonsai parameter values from HF tensors (already checked against `hfTensorSpecs`). */
export function hfToBonsai(c: DecoderConfig, hf: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, spec] of hfTensorSpecs(c)) {
    // A copy: the caller's tensors may be shared (a whole file's); hfTensorToBonsai keeps them.
    const data = spec.kind === 'copy' ? hf.get(name)!.slice() : hf.get(name)!;
    for (const [path, v] of hfTensorToBonsai(c, spec, data)) out.set(path, v);
  }
  return out;
}

/**
 * One HF tensor → its bonsai parameters (one, or three for GPT-NeoX's fused qkv). A 'copy'
 * tensor is returned as given, not copied: a caller reading tensor by tensor owns each one.
 */
export function hfTensorToBonsai(c: DecoderConfig, spec: HfTensorSpec, data: Float32Array): Array<[string, Float32Array]> {
  if (spec.kind === 'copy') return [[spec.path, data]];
  if (spec.kind === 'transpose') return [[spec.path, transpose(data, spec.shape[0]!, spec.shape[1]!)]];
  if (spec.kind === 'neox_qkv_weight') {
    const fused = transpose(data, 3 * c.dModel, c.dModel); // [D, 3D], column h·3dh + part·dh + j
    const parts = splitNeox(fused, c.dModel, c);
    return ['W_Q', 'W_K', 'W_V'].map((w, p) => [`${spec.path}.${w}`, parts[p]!]);
  }
  const parts = splitNeox(data, 1, c);
  return ['b_Q', 'b_K', 'b_V'].map((w, p) => [`${spec.path}.${w}`, parts[p]!]);
}

/** [rows, H·3dh] with per-head q|k|v columns → three [rows, H·dh] (head h at columns h·dh…). */
function splitNeox(fused: Float32Array, rows: number, c: DecoderConfig): Float32Array[] {
  const { nHeads: H, dHead: dh } = c;
  const parts = [0, 1, 2].map(() => new Float32Array(rows * H * dh));
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      for (let p = 0; p < 3; p++) {
        const src = r * 3 * H * dh + h * 3 * dh + p * dh;
        parts[p]!.set(fused.subarray(src, src + dh), r * H * dh + h * dh);
      }
    }
  }
  return parts;
}

/** Row-major [rows, cols] → [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = a[r * cols + k]!;
  return out;
}

/** HF tensors from bonsai parameter values: the inverse of `hfToBonsai`. */
export function bonsaiToHf(c: DecoderConfig, values: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const get = (path: string) => {
    const v = values.get(path);
    if (!v) throw new Error(`internal: no value for parameter ${path}`);
    return v;
  };
  for (const [name, spec] of hfTensorSpecs(c)) {
    if (spec.kind === 'copy') out.set(name, get(spec.path).slice());
    else if (spec.kind === 'transpose') out.set(name, transpose(get(spec.path), spec.shape[1]!, spec.shape[0]!));
    else if (spec.kind === 'neox_qkv_weight') {
      const fused = joinNeox(['W_Q', 'W_K', 'W_V'].map((w) => get(`${spec.path}.${w}`)), c.dModel, c); // [D, 3D]
      out.set(name, transpose(fused, c.dModel, 3 * c.dModel));
    } else out.set(name, joinNeox(['b_Q', 'b_K', 'b_V'].map((b) => get(`${spec.path}.${b}`)), 1, c));
  }
  return out;
}

/** Three [rows, H·dh] → [rows, H·3dh] with per-head q|k|v columns (inverse of splitNeox). */
function joinNeox(parts: Float32Array[], rows: number, c: DecoderConfig): Float32Array {
  const { nHeads: H, dHead: dh } = c;
  const fused = new Float32Array(rows * 3 * H * dh);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < H; h++) {
      for (let p = 0; p < 3; p++) {
        const src = r * H * dh + h * dh;
        fused.set(parts[p]!.subarray(src, src + dh), r * 3 * H * dh + h * 3 * dh + p * dh);
      }
    }
  }
  return fused;
}
