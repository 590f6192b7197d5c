/**
 * Hugging Face GPT-2 `config.json` ↔ bonsai's ModelConfig. Only configs whose forward pass
 * bonsai computes exactly are accepted: GELU in its tanh form, scores scaled by 1/√d_head,
 * no cross-attention. Everything wrong is reported at once, each naming its field.
 */
import { BonsaiError } from '../errors.ts';
import { modelConfig, type ModelConfig } from './config.ts';
import { GPT2_EOS_ID } from './tokenizer.ts';

/** GPT-2's BPE vocabulary: a checkpoint must cover every id the tokenizer can emit. */
export const GPT2_VOCAB = 50257;
/** Both names HF gives the tanh-approximated GELU that bonsai's MLP computes. */
const TANH_GELUS = ['gelu_new', 'gelu_pytorch_tanh'];

/** The ModelConfig a GPT-2 `config.json` describes. `where` names the file in errors. */
export function modelConfigFromHf(raw: unknown, where: string): ModelConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BonsaiError('config.json is not a JSON object', { where });
  const c = raw as Record<string, unknown>;
  const bad: string[] = [];
  const int = (k: string): number => {
    const v = c[k];
    if (!Number.isInteger(v) || (v as number) <= 0) bad.push(`${k} must be a positive integer (got ${JSON.stringify(v)})`);
    return v as number;
  };
  const [D, L, H, P, V] = ['n_embd', 'n_layer', 'n_head', 'n_positions', 'vocab_size'].map(int) as [number, number, number, number, number];
  const optional = <T>(k: string, fallback: T, ok: (v: unknown) => boolean, what: string): T => {
    if (c[k] === undefined || c[k] === null) return fallback;
    if (!ok(c[k])) bad.push(`${k} must be ${what} (got ${JSON.stringify(c[k])})`);
    return c[k] as T;
  };
  // HF's GPT2Config defaults, used when a field is absent.
  const eps = optional('layer_norm_epsilon', 1e-5, (v) => typeof v === 'number' && v > 0, 'a positive number');
  const inner = optional<number | null>('n_inner', null, (v) => Number.isInteger(v) && (v as number) > 0, 'null or a positive integer');
  const tied = optional('tie_word_embeddings', true, (v) => typeof v === 'boolean', 'true or false');
  const initStd = optional('initializer_range', 0.02, (v) => typeof v === 'number' && v > 0, 'a positive number');
  const act = optional('activation_function', 'gelu_new', (v) => typeof v === 'string', 'a string');
  if (typeof act === 'string' && !TANH_GELUS.includes(act)) {
    bad.push(`activation_function "${act}" is not supported: bonsai's MLP computes GELU's tanh form (${TANH_GELUS.join(' or ')})`);
  }
  if (c.model_type !== undefined && c.model_type !== 'gpt2') bad.push(`model_type "${String(c.model_type)}" is not gpt2: only GPT-2's architecture can be loaded`);
  if (c.scale_attn_weights === false) bad.push('scale_attn_weights false is not supported: bonsai always scales attention scores by 1/sqrt(d_head)');
  if (c.scale_attn_by_inverse_layer_idx === true) bad.push('scale_attn_by_inverse_layer_idx true is not supported (scores would also be divided by layer+1)');
  if (c.add_cross_attention === true) bad.push('add_cross_attention true is not supported: bonsai models are decoder-only');
  if (Number.isInteger(D) && Number.isInteger(H) && H > 0 && D % H !== 0) bad.push(`n_embd (${D}) must be divisible by n_head (${H})`);
  if (Number.isInteger(V) && V > 0 && V < GPT2_VOCAB) {
    bad.push(`vocab_size (${V}) is smaller than GPT-2's tokenizer (${GPT2_VOCAB} ids): the BPE tokenizer would emit ids the model has no embedding for`);
  }
  if (bad.length) throw new BonsaiError(`unsupported GPT-2 config: ${bad.join('; ')}`, { where });
  return modelConfig({ vocabSize: V, dModel: D, nLayers: L, nHeads: H, nCtx: P, dMlp: inner ?? 4 * D, tiedEmbeddings: tied, layerNormEps: eps, initStd });
}

/** The `config.json` Hugging Face needs to load a model saved by `saveHfGpt2`. */
export function hfConfigFromModel(c: ModelConfig): Record<string, unknown> {
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    bos_token_id: GPT2_EOS_ID,
    eos_token_id: GPT2_EOS_ID,
    initializer_range: c.initStd,
    layer_norm_epsilon: c.layerNormEps,
    model_type: 'gpt2',
    n_embd: c.dModel,
    n_head: c.nHeads,
    // HF reads null as 4·n_embd; an explicit width only when it differs.
    n_inner: c.dMlp === 4 * c.dModel ? null : c.dMlp,
    n_layer: c.nLayers,
    n_positions: c.nCtx,
    tie_word_embeddings: c.tiedEmbeddings,
    vocab_size: c.vocabSize,
  };
}
