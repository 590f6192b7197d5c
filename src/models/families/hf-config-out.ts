/**
 * The Hugging Face config.json of a DecoderConfig: the inverse of decoderConfigFromHf, so a
 * bonsai checkpoint of a family model (trained from scratch, or loaded from a directory whose
 * config.json it did not keep) can be written back in Hugging Face's layout. Reading the result
 * with decoderConfigFromHf gives the same DecoderConfig (a test holds this for every family).
 */
import { architectureOf, type DecoderConfig } from './config.ts';

/** config.json fields for `c`; `max_position_embeddings` is the context bonsai used (nCtx). */
export function hfConfigOfDecoder(c: DecoderConfig): Record<string, unknown> {
  const neox = c.family === 'gpt_neox';
  const scaling = c.rope.scaling;
  const ropeScaling = !scaling
    ? undefined
    : scaling.type === 'linear'
      ? { rope_type: 'linear', factor: scaling.factor }
      : {
          rope_type: 'llama3',
          factor: scaling.factor,
          low_freq_factor: scaling.lowFreqFactor,
          high_freq_factor: scaling.highFreqFactor,
          original_max_position_embeddings: scaling.originalMaxPositions,
        };
  return {
    architectures: [architectureOf(c.family)],
    model_type: c.family,
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    ...(neox ? {} : { num_key_value_heads: c.nKvHeads, head_dim: c.dHead }),
    intermediate_size: c.dMlp,
    max_position_embeddings: c.nCtx,
    hidden_act: neox ? 'gelu' : 'silu',
    ...(neox
      ? { layer_norm_eps: c.normEps, rotary_pct: c.rope.rotaryDim / c.dHead, rotary_emb_base: c.rope.theta, use_parallel_residual: true }
      : { rms_norm_eps: c.normEps, rope_theta: c.rope.theta }),
    ...(ropeScaling ? { rope_scaling: ropeScaling } : {}),
    tie_word_embeddings: c.tiedEmbeddings,
    initializer_range: c.initStd,
  };
}
