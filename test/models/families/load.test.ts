import * as tf from '@tensorflow/tfjs';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decoderConfigFromHf } from '../../../src/models/families/config.ts';
import { loadHfModel, readHfCheckpoint } from '../../../src/models/families/load.ts';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from '../../../src/models/safetensors.ts';
import { configError } from '../../helpers/golden.ts';
import { tempDir } from '../../helpers/recipes.ts';
import { useCpu } from '../../helpers/tiny.ts';

const ROOT = 'test/fixtures/hf';
const config = (name: string) => JSON.parse(readFileSync(join(ROOT, name, 'config.json'), 'utf8')) as Record<string, unknown>;
/** A scratch copy of a fixture, with config.json fields overridden. */
function copyFixture(name: string, override: Record<string, unknown> = {}): string {
  const dir = join(tempDir('bonsai-family-'), name);
  cpSync(join(ROOT, name), dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config(name), ...override }));
  return dir;
}
/** Rewrites one safetensors file through `edit` (tensors stay F32 as read). */
function editTensors(path: string, edit: (t: Record<string, SafetensorsInput>) => void): void {
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, t] of Object.entries(readSafetensors(path).tensors)) tensors[name] = { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.data as Float32Array) };
  edit(tensors);
  writeSafetensors(path, tensors);
}

beforeAll(async () => {
  await useCpu();
});

describe('decoderConfigFromHf', () => {
  it('maps each family and reads head_dim, GQA, rope scaling, partial rotary and tying', () => {
    const llama3 = decoderConfigFromHf(config('llama3'), 'llama3/config.json');
    expect(llama3).toMatchObject({ family: 'llama', nHeads: 4, nKvHeads: 2, dHead: 8, tiedEmbeddings: true, norm: 'rms', mlp: { gated: true, act: 'silu' }, positions: 'rope', normPlacement: 'pre' });
    expect(llama3.rope?.scaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 });
    expect(decoderConfigFromHf(config('llama-linear'), 'x').rope?.scaling).toEqual({ type: 'linear', factor: 4 });
    expect(decoderConfigFromHf(config('qwen3'), 'x')).toMatchObject({ dHead: 16, qkNorm: 'head', bias: { qkv: false } });
    expect(decoderConfigFromHf(config('qwen2'), 'x')).toMatchObject({ bias: { qkv: true, out: false, mlp: false } });
    expect(decoderConfigFromHf(config('pythia'), 'x')).toMatchObject({ family: 'gpt_neox', rope: { rotaryDim: 4 }, parallelResidual: true, tiedEmbeddings: false, norm: 'layer', mlp: { gated: false, act: 'gelu' } });
  });

  it('reads the rope_parameters object newer transformers write, the same as the old fields', () => {
    const old = config('llama3');
    const newer = { ...old, rope_scaling: undefined, rope_theta: undefined, rope_parameters: { ...(old.rope_scaling as object), rope_theta: 100 } };
    expect(decoderConfigFromHf(newer, 'x')).toEqual(decoderConfigFromHf(old, 'x'));
    const neox = config('pythia');
    const neoxNewer = { ...neox, rotary_pct: undefined, rotary_emb_base: undefined, rope_parameters: { rope_type: 'default', rope_theta: 10000, partial_rotary_factor: 0.25 } };
    expect(decoderConfigFromHf(neoxNewer, 'x')).toEqual(decoderConfigFromHf(neox, 'x'));
    expect(decoderConfigFromHf({ ...old, rope_theta: 500000 }, 'x').rope?.theta).toBe(500000);
    expect(() => decoderConfigFromHf({ ...old, rope_parameters: { rope_type: 'yarn', factor: 2 } }, 'c.json')).toThrow(/c\.json: rope_parameters: type "yarn" not supported/);
  });

  it('names every field it cannot honour, at once', () => {
    const messageOf = (raw: Record<string, unknown>) => configError(raw, 'ckpt/config.json');
    const bad = { ...config('llama3'), hidden_act: 'relu', mlp_bias: true, rope_scaling: { rope_type: 'yarn', factor: 4 } };
    const message = messageOf(bad);
    for (const field of ['hidden_act: "relu"', 'mlp_bias', 'rope_scaling: type "yarn"']) expect(message).toContain(field);
    expect(message).toContain('ckpt/config.json');
    const unknown = messageOf({ ...config('llama3'), model_type: 'falcon', architectures: ['FalconForCausalLM'] });
    for (const field of ['model_type: "falcon"', 'architectures: FalconForCausalLM']) expect(unknown).toContain(field);
  });

  it('a requested context shorter than max_position_embeddings, and one longer refused', () => {
    const mistral = { ...config('mistral'), sliding_window: 16 };
    expect(decoderConfigFromHf(mistral, 'm/config.json', 8)).toMatchObject({ nCtx: 8, window: { size: 16 } }); // a window wider than the context is harmless
    expect(() => decoderConfigFromHf(config('llama3'), 'l/config.json', 65)).toThrow(/max_position_embeddings: 64 is less than the requested context of 65/);
    // Qwen2 keeps a sliding_window field that only counts with use_sliding_window.
    expect(decoderConfigFromHf({ ...config('qwen2'), sliding_window: 4 }, 'q', 64).window).toBeUndefined();
  });
});

describe('readHfCheckpoint: bad checkpoints name the file and tensor', () => {
  it('a missing shard', () => {
    const dir = copyFixture('mistral');
    rmSync(join(dir, 'model-00002-of-00002.safetensors'));
    expect(() => readHfCheckpoint(dir)).toThrow(/model\.safetensors\.index\.json: weight_map names shard model-00002-of-00002\.safetensors \(for .*\), which is missing/);
  });

  it('a tensor of the wrong shape (config.json disagrees with the weights)', () => {
    const dir = copyFixture('qwen2', { intermediate_size: 40 });
    expect(() => readHfCheckpoint(dir)).toThrow(/model\.safetensors: tensor model\.layers\.0\.mlp\.down_proj\.weight has shape \[32,48\], config\.json implies \[32,40\]/);
  });

  it('a missing and an unexpected tensor', () => {
    const dir = copyFixture('pythia');
    editTensors(join(dir, 'model.safetensors'), (t) => {
      delete t['embed_out.weight'];
      t['gpt_neox.layers.0.attention.rotary_emb.inv_freq'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) }; // ignored: a buffer
      t['gpt_neox.layers.0.extra.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    });
    expect(() => readHfCheckpoint(dir)).toThrow(/tensor embed_out\.weight \[283,32\] is missing[\s\S]*unexpected tensor gpt_neox\.layers\.0\.extra\.weight/);
  });

  it('a tied checkpoint that also stores lm_head.weight: accepted if it is the embedding, refused if not', () => {
    const dir = copyFixture('qwen2');
    const file = join(dir, 'model.safetensors');
    editTensors(file, (t) => (t['lm_head.weight'] = { ...t['model.embed_tokens.weight']!, data: Float32Array.from(t['model.embed_tokens.weight']!.data as Float32Array) }));
    expect(readHfCheckpoint(dir).values.has('unembed.W_U')).toBe(false);
    editTensors(file, (t) => ((t['lm_head.weight']!.data as Float32Array)[5] = 42));
    expect(() => readHfCheckpoint(dir)).toThrow(/tensor lm_head\.weight differs from model\.embed_tokens\.weight but config\.json has tie_word_embeddings true/);
  });

  it('no weights at all, or no config', () => {
    const dir = copyFixture('llama3');
    rmSync(join(dir, 'model.safetensors'));
    expect(() => readHfCheckpoint(dir)).toThrow(/neither model\.safetensors nor model\.safetensors\.index\.json found/);
    rmSync(join(dir, 'config.json'));
    expect(() => readHfCheckpoint(dir)).toThrow(/config\.json: missing/);
  });
});

describe('HookedTransformer hooks', () => {
  it('caches TransformerLens-named activations with GQA shapes, and the explicit pattern path equals the fused one', () => {
    const model = loadHfModel(join(ROOT, 'llama3'));
    const ids = tf.tensor2d([[1, 2, 3, 4, 5]], undefined, 'int32');
    const plain = model.forward(ids);
    const cached = model.forward(ids, { cache: ['blocks.1.attn.hook_k', 'blocks.1.attn.hook_rot_q', 'blocks.1.attn.hook_pattern', 'blocks.0.mlp.hook_pre_linear'] });
    expect(cached.cache.get('blocks.1.attn.hook_k').shape).toEqual([1, 5, 2, 8]); // one per kv head
    expect(cached.cache.get('blocks.1.attn.hook_rot_q').shape).toEqual([1, 5, 4, 8]);
    expect(cached.cache.get('blocks.0.mlp.hook_pre_linear').shape).toEqual([1, 5, 48]);
    const pattern = cached.cache.get('blocks.1.attn.hook_pattern').arraySync() as number[][][][];
    expect(pattern[0]![2]![1]![3]).toBe(0); // causal
    expect(pattern[0]![2]![4]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(tf.max(tf.abs(tf.sub(plain.logits, cached.logits))).dataSync()[0]).toBeLessThan(1e-5);
    // An edit changes the output: zeroing every head's z in both layers leaves only the MLP path.
    const ablated = model.forward(ids, { hooks: [{ at: /attn\.hook_z$/, fn: (z) => tf.zerosLike(z) }] });
    expect(tf.max(tf.abs(tf.sub(plain.logits, ablated.logits))).dataSync()[0]).toBeGreaterThan(1e-2);
    expect(() => model.forward(ids, { cache: 'blocks.0.hook_pos_embed' })).toThrow(/unknown hook point "blocks\.0\.hook_pos_embed"/);
    expect(model.hookPoints()).not.toContain('hook_pos_embed');
    tf.dispose([ids, plain.logits, cached.logits, ablated.logits]);
    cached.cache.dispose();
    model.dispose();
  });

  it('GPT-NeoX has no hook_resid_mid (parallel residual)', () => {
    const model = loadHfModel(join(ROOT, 'pythia'));
    expect(model.hookPoints().some((n) => n.endsWith('hook_resid_mid'))).toBe(false);
    expect(model.hookPoints()).toContain('blocks.1.attn.hook_rot_k');
    model.dispose();
  });
});
