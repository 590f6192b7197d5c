/** Issue 14's bench row (a): the model shape and the LoRA settings (bench/lora-step.ts, bench/lora-memory.ts). */
import type { DecoderConfig } from '../src/models/families/config.ts';

/** SmolLM2-135M's config.json, as bonsai's family config (random init: no weights are read). */
export const SMOLLM2_135M: DecoderConfig = {
  family: 'llama', vocabSize: 49152, dModel: 576, nLayers: 30, nHeads: 9, nKvHeads: 3, dHead: 64, dMlp: 1536, nCtx: 256,
  norm: 'rms', normEps: 1e-5, rope: { theta: 100000, rotaryDim: 64 }, qkvBias: false, denseBias: false, qkNorm: false,
  parallelResidual: false, mlp: 'swiglu', tiedEmbeddings: true, initStd: 0.02,
};
/** Every linear layer of every block (the tied unembedding is the embedding: not a linear layer to PEFT). */
export const ALL_LINEAR = ['blocks.*.attn.W_Q', 'blocks.*.attn.W_K', 'blocks.*.attn.W_V', 'blocks.*.attn.W_O', 'blocks.*.mlp.W_gate', 'blocks.*.mlp.W_in', 'blocks.*.mlp.W_out'];
export const ROW_A = { r: 16, alpha: 32, batchSize: 2, seqLen: 256, lr: 1e-4 };
/** Qwen2.5-0.5B's config.json (bench row (e)): vocab 151,936, d 896, 24 layers, 14 / 2 heads, MLP 4,864, tied embeddings, q/k/v biases. */
export const QWEN25_05B: DecoderConfig = {
  family: 'qwen2', vocabSize: 151936, dModel: 896, nLayers: 24, nHeads: 14, nKvHeads: 2, dHead: 64, dMlp: 4864, nCtx: 256,
  norm: 'rms', normEps: 1e-6, rope: { theta: 1000000, rotaryDim: 64 }, qkvBias: true, denseBias: false, qkNorm: false,
  parallelResidual: false, mlp: 'swiglu', tiedEmbeddings: true, initStd: 0.02,
};
