/**
 * GPT-NeoX and Pythia (`GPTNeoXForCausalLM`): LayerNorm with bias, parallel residual
 * x + attn(ln1(x)) + mlp(ln2(x)) (or sequential with `use_parallel_residual: false`), RoPE on
 * the first `rotary_pct` of each head, exact GELU, biases everywhere, untied `embed_out`.
 * q, k and v are fused per head: query_key_value's outputs run head by head, q|k|v each.
 */
import type { DecoderConfig, Family, HfTensorSpec } from './family.ts';
import { readRope } from './rope.ts';

export const gptNeox: Family = {
  name: 'gpt_neox',
  modelTypes: ['gpt_neox'],
  architectures: ['GPTNeoXForCausalLM'],
  summary: 'LayerNorm, parallel residual, partial rotary, fused per-head query_key_value, exact GELU',
  readConfig(f) {
    const dModel = f.int('hidden_size');
    const nHeads = f.int('num_attention_heads');
    const dHead = dModel / nHeads;
    if (!Number.isInteger(dHead)) f.bad('hidden_size', `${dModel} is not a multiple of num_attention_heads ${nHeads}`);
    const attnBias = f.bool('attention_bias', true);
    return {
      vocabSize: f.int('vocab_size'),
      dModel,
      nLayers: f.int('num_hidden_layers'),
      nHeads,
      nKvHeads: nHeads,
      dHead,
      dMlp: f.int('intermediate_size'),
      nCtx: f.int('max_position_embeddings'),
      tiedEmbeddings: f.bool('tie_word_embeddings', false),
      initStd: f.num('initializer_range', 0.02),
      positions: 'rope',
      embedScale: 1,
      norm: 'layer',
      normEps: f.num('layer_norm_eps', 1e-5),
      normPlusOne: false,
      normPlacement: 'pre',
      parallelResidual: f.bool('use_parallel_residual', true),
      bias: { qkv: attnBias, out: attnBias, mlp: true, unembed: false },
      qkNorm: 'none',
      mlp: { gated: false, act: f.activation(['hidden_act'], { gelu: 'gelu', gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh' }, 'gelu') },
      rope: readRope(f, dHead, { theta: f.num('rotary_emb_base', 10000), rotaryFraction: f.num('rotary_pct', 0.25) }),
      attnScale: 1 / Math.sqrt(dHead),
    };
  },
  writeConfig: (c) => ({
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    intermediate_size: c.dMlp,
    max_position_embeddings: c.nCtx,
    hidden_act: c.mlp.act === 'gelu' ? 'gelu' : 'gelu_new',
    layer_norm_eps: c.normEps,
    rotary_pct: c.rope!.rotaryDim / c.dHead,
    rotary_emb_base: c.rope!.theta,
    use_parallel_residual: c.parallelResidual,
    attention_bias: c.bias.qkv,
    tie_word_embeddings: c.tiedEmbeddings,
    initializer_range: c.initStd,
  }),
  scratchConfig: (r) => ({
    architectures: ['GPTNeoXForCausalLM'],
    model_type: 'gpt_neox',
    vocab_size: r.vocab_size,
    hidden_size: r.d_model,
    num_hidden_layers: r.n_layers,
    num_attention_heads: r.n_heads,
    intermediate_size: r.d_mlp,
    max_position_embeddings: r.n_ctx,
    hidden_act: 'gelu',
    layer_norm_eps: r.layer_norm_eps,
    rotary_pct: r.rotary_pct ?? 1,
    rotary_emb_base: r.rope_theta ?? 10000,
    use_parallel_residual: true,
    tie_word_embeddings: r.tied_embeddings,
    initializer_range: r.init_std,
  }),
  recipeFields: ['rope_theta', 'rotary_pct'],
  tensors: neoxTensors,
  ignoredTensors: [/\.rotary_emb\.inv_freq$/, /\.attention\.bias$/, /\.attention\.masked_bias$/],
};

function neoxTensors(c: DecoderConfig): Map<string, HfTensorSpec> {
  const { vocabSize: V, dModel: D, dMlp: M, nHeads: H, dHead: dh } = c;
  const specs = new Map<string, HfTensorSpec>();
  const add = (name: string, shape: number[], kind: HfTensorSpec['kind'], ...paths: string[]) => specs.set(name, { shape, kind, paths });
  const norm = (hf: string, path: string) => add(`${hf}.weight`, [D], 'copy', `${path}.w`).set(`${hf}.bias`, { shape: [D], kind: 'copy', paths: [`${path}.b`] });
  add('gpt_neox.embed_in.weight', [V, D], 'copy', 'embed.W_E');
  for (let i = 0; i < c.nLayers; i++) {
    const [hf, b] = [`gpt_neox.layers.${i}`, `blocks.${i}`];
    norm(`${hf}.input_layernorm`, `${b}.ln1`);
    norm(`${hf}.post_attention_layernorm`, `${b}.ln2`);
    add(`${hf}.attention.query_key_value.weight`, [3 * H * dh, D], 'heads', `${b}.attn.W_Q`, `${b}.attn.W_K`, `${b}.attn.W_V`);
    if (c.bias.qkv) add(`${hf}.attention.query_key_value.bias`, [3 * H * dh], 'heads', `${b}.attn.b_Q`, `${b}.attn.b_K`, `${b}.attn.b_V`);
    add(`${hf}.attention.dense.weight`, [D, H * dh], 'linear', `${b}.attn.W_O`);
    if (c.bias.out) add(`${hf}.attention.dense.bias`, [D], 'copy', `${b}.attn.b_O`);
    add(`${hf}.mlp.dense_h_to_4h.weight`, [M, D], 'linear', `${b}.mlp.W_in`);
    add(`${hf}.mlp.dense_h_to_4h.bias`, [M], 'copy', `${b}.mlp.b_in`);
    add(`${hf}.mlp.dense_4h_to_h.weight`, [D, M], 'linear', `${b}.mlp.W_out`);
    add(`${hf}.mlp.dense_4h_to_h.bias`, [D], 'copy', `${b}.mlp.b_out`);
  }
  norm('gpt_neox.final_layer_norm', 'ln_final');
  if (!c.tiedEmbeddings) add('embed_out.weight', [V, D], 'linear', 'unembed.W_U');
  return specs;
}
