/** Issue 14's bench row (a): the model shape and the LoRA settings (bench/lora-step.ts, bench/lora-memory.ts). */
import { decoderConfigFromHf, type DecoderConfig } from '../src/models/families/config.ts';

/** SmolLM2-135M's config.json, as bonsai's family config at a 256-token context (random init: no weights are read). */
export const SMOLLM2_135M: DecoderConfig = decoderConfigFromHf(
  {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 49152, hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9,
    num_key_value_heads: 3, intermediate_size: 1536, max_position_embeddings: 8192, hidden_act: 'silu', rms_norm_eps: 1e-5, rope_theta: 100000,
    tie_word_embeddings: true, initializer_range: 0.02,
  },
  'SmolLM2-135M config.json',
  256,
);
/** Every linear layer of every block (the tied unembedding is the embedding: not a linear layer to PEFT). */
export const ALL_LINEAR = ['blocks.*.attn.W_Q', 'blocks.*.attn.W_K', 'blocks.*.attn.W_V', 'blocks.*.attn.W_O', 'blocks.*.mlp.W_gate', 'blocks.*.mlp.W_in', 'blocks.*.mlp.W_out'];
export const ROW_A = { r: 16, alpha: 32, batchSize: 2, seqLen: 256, lr: 1e-4 };
/** Qwen2.5-0.5B's config.json (bench row (e)): vocab 151,936, d 896, 24 layers, 14 / 2 heads, MLP 4,864, tied embeddings, q/k/v biases. */
export const QWEN25_05B: DecoderConfig = decoderConfigFromHf(
  {
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, num_hidden_layers: 24, num_attention_heads: 14,
    num_key_value_heads: 2, intermediate_size: 4864, max_position_embeddings: 32768, hidden_act: 'silu', rms_norm_eps: 1e-6, rope_theta: 1000000,
    tie_word_embeddings: true, use_sliding_window: false, sliding_window: 32768, max_window_layers: 21, initializer_range: 0.02,
  },
  'Qwen2.5-0.5B config.json',
  256,
);
