/**
 * GPT-2 (`GPT2LMHeadModel`): learned positions, pre-LayerNorm with bias, GELU (tanh form),
 * biases everywhere, scores scaled by 1/√d_head; Conv1D weights stored [in, out] as bonsai
 * does, q|k|v side by side in c_attn. Its bonsai checkpoints store the config as they did
 * before families existed (no `family` field), and a bonsai-trained untied GPT-2 has an
 * unembedding bias that Hugging Face's lm_head lacks (saved only while it is zero).
 */
import { BonsaiError } from '../../errors.ts';
import { GPT2_EOS_ID } from '../tokenizer.ts';
import type { DecoderConfig, Family, HfTensorSpec } from './family.ts';

/** GPT-2's BPE vocabulary: a Hugging Face GPT-2 folder carries no tokenizer, so its ids must all embed. */
export const GPT2_VOCAB = 50257;

/** A GPT-2 config by its dims (camelCase); the rest take GPT-2's defaults. */
export interface Gpt2ConfigInput {
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  nCtx: number;
  dMlp?: number;
  tiedEmbeddings?: boolean;
  layerNormEps?: number;
  initStd?: number;
}

/** The stored fields of a GPT-2 checkpoint, in the order bonsai has always written them. */
const STORED = ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'nCtx', 'tiedEmbeddings', 'layerNormEps', 'initStd'] as const;

export const gpt2: Family = {
  name: 'gpt2',
  modelTypes: ['gpt2'],
  architectures: ['GPT2LMHeadModel'],
  summary: 'learned positions, LayerNorm, GELU (tanh form), Conv1D weights',
  readConfig(f) {
    const [D, H] = [f.int('n_embd'), f.int('n_head')];
    if (D % H !== 0) f.bad('n_embd', `${D} must be divisible by n_head (${H})`);
    f.activation(['activation_function'], { gelu_new: 'gelu_tanh', gelu_pytorch_tanh: 'gelu_tanh' }, 'gelu_new');
    f.refuse('scale_attn_weights', false, 'bonsai always scales attention scores by 1/sqrt(d_head)');
    f.refuse('scale_attn_by_inverse_layer_idx', true, 'scores would also be divided by layer+1');
    f.refuse('add_cross_attention', true, 'bonsai models are decoder-only');
    const inner = f.get('n_inner') === undefined ? 4 * D : f.int('n_inner');
    return gpt2Flags({ vocabSize: f.int('vocab_size'), dModel: D, nLayers: f.int('n_layer'), nHeads: H, nCtx: f.int('n_positions'), dMlp: inner, tiedEmbeddings: f.bool('tie_word_embeddings', true), layerNormEps: f.num('layer_norm_epsilon', 1e-5), initStd: f.num('initializer_range', 0.02) });
  },
  writeConfig: (c) => ({
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    bos_token_id: GPT2_EOS_ID,
    eos_token_id: GPT2_EOS_ID,
    initializer_range: c.initStd,
    layer_norm_epsilon: c.normEps,
    model_type: 'gpt2',
    n_embd: c.dModel,
    n_head: c.nHeads,
    // HF reads null as 4·n_embd; an explicit width only when it differs.
    n_inner: c.dMlp === 4 * c.dModel ? null : c.dMlp,
    n_layer: c.nLayers,
    n_positions: c.nCtx,
    tie_word_embeddings: c.tiedEmbeddings,
    vocab_size: c.vocabSize,
  }),
  scratchConfig: (r) => gpt2.writeConfig(gpt2Config({ vocabSize: r.vocab_size, dModel: r.d_model, nLayers: r.n_layers, nHeads: r.n_heads, nCtx: r.n_ctx, dMlp: r.d_mlp, tiedEmbeddings: r.tied_embeddings, layerNormEps: r.layer_norm_eps, initStd: r.init_std })),
  recipeFields: [],
  tensors: gpt2Tensors,
  ignoredTensors: [/^h\.\d+\.attn\.(bias|masked_bias)$/],
  namePrefix: 'transformer.',
  peftModule: (name) => (name === 'lm_head.weight' ? 'lm_head' : `transformer.${name.replace(/\.weight$/, '')}`),
  scaledResidualInit: true,
  builtinTokenizer: 'gpt2',
  check: (c) => (c.dModel % c.nHeads !== 0 || c.dHead * c.nHeads !== c.dModel ? [`dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads}), each head ${c.dModel}/${c.nHeads} wide`] : []),
  saveProblem(c, values) {
    if (c.vocabSize < GPT2_VOCAB) return new BonsaiError(`cannot save as GPT-2: vocabulary of ${c.vocabSize} is smaller than GPT-2's tokenizer (${GPT2_VOCAB})`);
    if (values.get('unembed.b_U')?.some((v) => v !== 0)) return new BonsaiError("cannot save as GPT-2: unembed.b_U is not zero, and GPT-2's lm_head has no bias");
    return undefined;
  },
  stored: (c) => Object.fromEntries(STORED.map((k) => [k, k === 'layerNormEps' ? c.normEps : c[k]])),
  fromStored(raw, where) {
    // Written before families existed: the dims and these four fields, nothing defaulted.
    const need = ['dMlp', 'tiedEmbeddings', 'layerNormEps', 'initStd'].filter((k) => raw[k] === undefined);
    if (need.length) throw new BonsaiError(`invalid model config in ${where}: ${need.join(', ')} missing`);
    return modelConfig(raw as unknown as Gpt2ConfigInput, `model config in ${where}`);
  },
};

/**
 * A GPT-2 config from its dims, checked: a BonsaiError names every bad field (the recipe
 * validates first; this guards the API).
 */
export function modelConfig(c: Gpt2ConfigInput, where = 'model config'): DecoderConfig {
  const bad: string[] = [];
  const full = { dMlp: 4 * c.dModel, layerNormEps: 1e-5, initStd: 0.02, ...c };
  for (const k of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'nCtx'] as const) {
    if (!Number.isInteger(full[k]) || full[k] <= 0) bad.push(`${k} must be a positive integer (got ${full[k]})`);
  }
  if (Number.isInteger(c.dModel) && Number.isInteger(c.nHeads) && c.nHeads > 0 && c.dModel % c.nHeads !== 0) bad.push(`dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads})`);
  if (!(full.layerNormEps > 0)) bad.push(`layerNormEps must be > 0 (got ${full.layerNormEps})`);
  if (!(full.initStd > 0)) bad.push(`initStd must be > 0 (got ${full.initStd})`);
  if (bad.length) throw new BonsaiError(`invalid ${where}: ${bad.join('; ')}`);
  return gpt2Config(full);
}

/** A full GPT-2 config from its dims (GPT-2's defaults: d_mlp 4·d_model, tied, eps 1e-5, init std 0.02). */
export function gpt2Config(c: Gpt2ConfigInput): DecoderConfig {
  return { family: 'gpt2', ...gpt2Flags(c) };
}

function gpt2Flags(c: Gpt2ConfigInput): Omit<DecoderConfig, 'family'> {
  const tied = c.tiedEmbeddings ?? true;
  return {
    vocabSize: c.vocabSize,
    dModel: c.dModel,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nHeads,
    dHead: c.dModel / c.nHeads,
    dMlp: c.dMlp ?? 4 * c.dModel,
    nCtx: c.nCtx,
    tiedEmbeddings: tied,
    initStd: c.initStd ?? 0.02,
    positions: 'learned',
    embedScale: 1,
    norm: 'layer',
    normEps: c.layerNormEps ?? 1e-5,
    normPlusOne: false,
    normPlacement: 'pre',
    parallelResidual: false,
    bias: { qkv: true, out: true, mlp: true, unembed: true },
    qkNorm: 'none',
    mlp: { gated: false, act: 'gelu_tanh' },
    attnScale: 1 / Math.sqrt(c.dModel / c.nHeads),
  };
}

/** GPT-2's tensors (names as on the Hub, without the `transformer.` prefix). */
function gpt2Tensors(c: DecoderConfig): Map<string, HfTensorSpec> {
  const { vocabSize: V, dModel: D, dMlp: M } = c;
  const specs = new Map<string, HfTensorSpec>();
  const add = (name: string, shape: number[], kind: HfTensorSpec['kind'], ...paths: string[]) => specs.set(name, { shape, kind, paths });
  add('wte.weight', [V, D], 'copy', 'embed.W_E');
  add('wpe.weight', [c.nCtx, D], 'copy', 'pos_embed.W_pos');
  for (let i = 0; i < c.nLayers; i++) {
    const [h, b] = [`h.${i}`, `blocks.${i}`];
    add(`${h}.ln_1.weight`, [D], 'copy', `${b}.ln1.w`);
    add(`${h}.ln_1.bias`, [D], 'copy', `${b}.ln1.b`);
    add(`${h}.attn.c_attn.weight`, [D, 3 * D], 'columns', `${b}.attn.W_Q`, `${b}.attn.W_K`, `${b}.attn.W_V`);
    add(`${h}.attn.c_attn.bias`, [3 * D], 'columns', `${b}.attn.b_Q`, `${b}.attn.b_K`, `${b}.attn.b_V`);
    add(`${h}.attn.c_proj.weight`, [D, D], 'conv1d', `${b}.attn.W_O`);
    add(`${h}.attn.c_proj.bias`, [D], 'copy', `${b}.attn.b_O`);
    add(`${h}.ln_2.weight`, [D], 'copy', `${b}.ln2.w`);
    add(`${h}.ln_2.bias`, [D], 'copy', `${b}.ln2.b`);
    add(`${h}.mlp.c_fc.weight`, [D, M], 'conv1d', `${b}.mlp.W_in`);
    add(`${h}.mlp.c_fc.bias`, [M], 'copy', `${b}.mlp.b_in`);
    add(`${h}.mlp.c_proj.weight`, [M, D], 'conv1d', `${b}.mlp.W_out`);
    add(`${h}.mlp.c_proj.bias`, [D], 'copy', `${b}.mlp.b_out`);
  }
  add('ln_f.weight', [D], 'copy', 'ln_final.w');
  add('ln_f.bias', [D], 'copy', 'ln_final.b');
  if (!c.tiedEmbeddings) add('lm_head.weight', [V, D], 'linear', 'unembed.W_U');
  return specs;
}
