/**
 * Hugging Face GPT-2 tensor names and layouts ↔ bonsai parameter paths (params.ts).
 * HF's Conv1D stores weights [in, out] and computes x·W + b, which is bonsai's layout too,
 * so every matrix copies straight across except two:
 *   h.{i}.attn.c_attn.weight [D, 3D] = [W_Q | W_K | W_V] side by side (bias likewise);
 *     within each, head h owns columns h·dh … (h+1)·dh, as in bonsai.
 *   lm_head.weight [V, D] (nn.Linear, no bias) = unembed.W_Uᵀ; only for untied models.
 */
import type { ModelConfig } from './config.ts';

/** HF names (as on the Hub: no `transformer.` prefix) → shapes, for a config. */
export function hfTensorShapes(c: ModelConfig): Map<string, number[]> {
  const { vocabSize: V, dModel: D, dMlp: M, nCtx } = c;
  const shapes = new Map<string, number[]>([
    ['wte.weight', [V, D]],
    ['wpe.weight', [nCtx, D]],
  ]);
  for (let i = 0; i < c.nLayers; i++) {
    const h = `h.${i}`;
    for (const ln of ['ln_1', 'ln_2']) shapes.set(`${h}.${ln}.weight`, [D]).set(`${h}.${ln}.bias`, [D]);
    shapes
      .set(`${h}.attn.c_attn.weight`, [D, 3 * D])
      .set(`${h}.attn.c_attn.bias`, [3 * D])
      .set(`${h}.attn.c_proj.weight`, [D, D])
      .set(`${h}.attn.c_proj.bias`, [D])
      .set(`${h}.mlp.c_fc.weight`, [D, M])
      .set(`${h}.mlp.c_fc.bias`, [M])
      .set(`${h}.mlp.c_proj.weight`, [M, D])
      .set(`${h}.mlp.c_proj.bias`, [D]);
  }
  shapes.set('ln_f.weight', [D]).set('ln_f.bias', [D]);
  if (!c.tiedEmbeddings) shapes.set('lm_head.weight', [V, D]);
  return shapes;
}

/** Renames that copy the data unchanged, per block and for the whole model. */
const BLOCK_COPIES: Array<[hf: string, bonsai: string]> = [
  ['ln_1.weight', 'ln1.w'],
  ['ln_1.bias', 'ln1.b'],
  ['attn.c_proj.weight', 'attn.W_O'],
  ['attn.c_proj.bias', 'attn.b_O'],
  ['ln_2.weight', 'ln2.w'],
  ['ln_2.bias', 'ln2.b'],
  ['mlp.c_fc.weight', 'mlp.W_in'],
  ['mlp.c_fc.bias', 'mlp.b_in'],
  ['mlp.c_proj.weight', 'mlp.W_out'],
  ['mlp.c_proj.bias', 'mlp.b_out'],
];
const MODEL_COPIES: Array<[hf: string, bonsai: string]> = [
  ['wte.weight', 'embed.W_E'],
  ['wpe.weight', 'pos_embed.W_pos'],
  ['ln_f.weight', 'ln_final.w'],
  ['ln_f.bias', 'ln_final.b'],
];

function copies(c: ModelConfig): Array<[hf: string, bonsai: string]> {
  const out = [...MODEL_COPIES];
  for (let i = 0; i < c.nLayers; i++) out.push(...BLOCK_COPIES.map(([hf, b]): [string, string] => [`h.${i}.${hf}`, `blocks.${i}.${b}`]));
  return out;
}

/**
 * Bonsai parameter values from HF tensors (already checked against `hfTensorShapes`).
 * Data is copied, so the result never aliases the input.
 */
export function hfToBonsai(c: ModelConfig, hf: Map<string, Float32Array>): Map<string, Float32Array> {
  const get = (name: string) => hf.get(name)!;
  const D = c.dModel;
  const out = new Map<string, Float32Array>();
  for (const [h, b] of copies(c)) out.set(b, get(h).slice());
  for (let i = 0; i < c.nLayers; i++) {
    const w = get(`h.${i}.attn.c_attn.weight`); // [D, 3D]
    const bias = get(`h.${i}.attn.c_attn.bias`); // [3D]
    ['Q', 'K', 'V'].forEach((name, part) => {
      const W = new Float32Array(D * D); // [D, D]
      for (let r = 0; r < D; r++) W.set(w.subarray(r * 3 * D + part * D, r * 3 * D + (part + 1) * D), r * D);
      out.set(`blocks.${i}.attn.W_${name}`, W);
      out.set(`blocks.${i}.attn.b_${name}`, bias.slice(part * D, (part + 1) * D));
    });
  }
  if (!c.tiedEmbeddings) {
    out.set('unembed.W_U', transpose(get('lm_head.weight'), c.vocabSize, D)); // [V, D] → [D, V]
    out.set('unembed.b_U', new Float32Array(c.vocabSize)); // HF's lm_head has no bias
  }
  return out;
}

/**
 * HF tensors from bonsai parameter values, the inverse of `hfToBonsai`. An untied model's
 * `unembed.b_U` has no HF counterpart; the caller checks that it is zero.
 */
export function bonsaiToHf(c: ModelConfig, values: Map<string, Float32Array>): Map<string, Float32Array> {
  const get = (path: string) => values.get(path)!;
  const D = c.dModel;
  const out = new Map<string, Float32Array>();
  for (const [h, b] of copies(c)) out.set(h, get(b).slice());
  for (let i = 0; i < c.nLayers; i++) {
    const w = new Float32Array(D * 3 * D); // [D, 3D]
    const bias = new Float32Array(3 * D);
    ['Q', 'K', 'V'].forEach((name, part) => {
      const W = get(`blocks.${i}.attn.W_${name}`); // [D, D]
      for (let r = 0; r < D; r++) w.set(W.subarray(r * D, (r + 1) * D), r * 3 * D + part * D);
      bias.set(get(`blocks.${i}.attn.b_${name}`), part * D);
    });
    out.set(`h.${i}.attn.c_attn.weight`, w).set(`h.${i}.attn.c_attn.bias`, bias);
  }
  if (!c.tiedEmbeddings) out.set('lm_head.weight', transpose(get('unembed.W_U'), D, c.vocabSize)); // [D, V] → [V, D]
  return out;
}

/** Row-major [rows, cols] → [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = a[r * cols + k]!;
  return out;
}
