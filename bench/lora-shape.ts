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
