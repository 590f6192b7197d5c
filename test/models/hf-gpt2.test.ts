import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHfGpt2 } from '../../src/models/families/load.ts';
import { saveHfGpt2 } from '../../src/models/families/save.ts';
import { HookedTransformer, modelConfig } from '../../src/models/index.ts';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from '../../src/models/safetensors.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

// Written by scripts/make-gpt2-fixture.py: a random 2-layer, 4-wide GPT-2 with GPT-2's
// real vocabulary, in HF's layout, and PyTorch's logits for two sequences.
const FIXTURE = 'test/fixtures/gpt2-tiny';
interface Golden {
  text: string;
  input_ids: number[][];
  vocab_ids: number[];
  logits: number[][][]; // [B, T, vocab_ids.length]
  logsumexp: number[][]; // [B, T] over the whole vocabulary
  final_hidden: number[][][]; // [B, T, D]: ln_f's output
}
const golden = JSON.parse(readFileSync(join(FIXTURE, 'golden.json'), 'utf8')) as Golden;
const fixtureConfig = JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')) as Record<string, unknown>;
const fixtureTensors = () => readSafetensors(join(FIXTURE, 'model.safetensors')).tensors;

let scratch: string;
beforeAll(async () => {
  await useCpu();
  scratch = tempDir('bonsai-hf-gpt2-');
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A folder holding these tensors and this config.json; returns its path. */
function hfDir(name: string, tensors: Record<string, SafetensorsInput>, config: Record<string, unknown> = fixtureConfig): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect((e as Error).name).toMatch(/^BonsaiErrors?$/);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  return Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
};

describe('loadHfGpt2', () => {
  it("matches PyTorch's logits to 1e-4 on the cpu backend, with GPT-2's tokenizer", () => {
    const { model, tokenizer, config } = loadHfGpt2(FIXTURE);
    expect(config).toMatchObject({ family: 'gpt2', vocabSize: 50257, dModel: 4, nLayers: 2, nHeads: 2, dMlp: 16, nCtx: 16, tiedEmbeddings: true, normEps: 1e-5, positions: 'learned', norm: 'layer', mlp: { gated: false, act: 'gelu_tanh' } });
    expect(tokenizer.encode(golden.text)).toEqual(golden.input_ids[0]);
    const ids = tf.tensor2d(golden.input_ids, undefined, 'int32');
    const { logits, cache } = model.forward(ids, { cache: 'ln_final.hook_normalized' });
    const [B, T] = [golden.input_ids.length, golden.input_ids[0]!.length];
    const picked = tf.tidy(() => tf.gather(logits, tf.tensor1d(golden.vocab_ids, 'int32'), 2)); // [B, T, subset]
    const lse = tf.tidy(() => tf.logSumExp(logits, -1)); // [B, T]
    const diffs = {
      logits: maxAbsDiff(picked.dataSync(), golden.logits.flat(2)),
      logsumexp: maxAbsDiff(lse.dataSync(), golden.logsumexp.flat()),
      hidden: maxAbsDiff(cache.get('ln_final.hook_normalized').dataSync(), golden.final_hidden.flat(2)),
    };
    expect(logits.shape).toEqual([B, T, 50257]);
    expect(diffs.logits).toBeLessThanOrEqual(1e-4);
    expect(diffs.logsumexp).toBeLessThanOrEqual(1e-4);
    expect(diffs.hidden).toBeLessThanOrEqual(1e-4);
    // A logit that the golden file calls the argmax is the argmax here too.
    const top = tf.tidy(() => tf.argMax(logits, -1).arraySync()) as number[][];
    top.flat().forEach((id) => expect(golden.vocab_ids).toContain(id));
    tf.dispose([ids, logits, picked, lse]);
    cache.dispose();
    model.dispose();
  });

  it('exposes hook points on the loaded model: cache and edits', () => {
    const { model } = loadHfGpt2(FIXTURE);
    const ids = tf.tensor2d([golden.input_ids[0]!], undefined, 'int32');
    const { logits, cache } = model.forward(ids, { cache: ['blocks.1.hook_resid_post', 'blocks.0.attn.hook_pattern'] });
    expect(cache.get('blocks.1.hook_resid_post').shape).toEqual([1, 6, 4]);
    expect(cache.get('blocks.0.attn.hook_pattern').shape).toEqual([1, 2, 6, 6]);
    const ablated = model.forward(ids, { hooks: [{ at: 'blocks.0.hook_mlp_out', fn: (a) => tf.zerosLike(a) }] }).logits;
    expect(maxAbsDiff(ablated.dataSync(), logits.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([ids, logits, ablated]);
    cache.dispose();
    model.dispose();
  });

  it('accepts the transformer. prefix, mask buffers, a tied lm_head copy and F16 weights', () => {
    const tensors: Record<string, SafetensorsInput> = {};
    for (const [name, t] of Object.entries(fixtureTensors())) tensors[`transformer.${name}`] = { ...t, dtype: 'F16', data: t.data as Float32Array };
    tensors['transformer.h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 16, 16], data: new Float32Array(256) };
    tensors['lm_head.weight'] = tensors['transformer.wte.weight']!;
    const { model } = loadHfGpt2(hfDir('prefixed-f16', tensors));
    const reference = loadHfGpt2(FIXTURE).model;
    const [half, full] = [model.valuesSync().get('blocks.1.mlp.W_in')!, reference.valuesSync().get('blocks.1.mlp.W_in')!];
    expect(maxAbsDiff(half, full)).toBeGreaterThan(0); // rounded to half precision …
    expect(maxAbsDiff(half, full)).toBeLessThan(2e-3); // … and widened back exactly
    model.dispose();
    reference.dispose();
  });

  it('lists every missing, unexpected, mis-shaped and wrong-dtype tensor in one error', () => {
    const tensors: Record<string, SafetensorsInput> = { ...fixtureTensors() };
    delete tensors['h.1.ln_2.weight'];
    delete tensors['ln_f.bias'];
    tensors['h.2.ln_1.weight'] = { dtype: 'F32', shape: [4], data: new Float32Array(4) };
    const cAttn = tensors['h.0.attn.c_attn.weight']!;
    tensors['h.0.attn.c_attn.weight'] = { ...cAttn, shape: [12, 4] };
    tensors['h.1.mlp.c_fc.bias'] = { dtype: 'I32', shape: [16], data: new Int32Array(16) };
    tensors['lm_head.weight'] = { dtype: 'F32', shape: [50257, 4], data: new Float32Array(50257 * 4) };
    const msg = errorOf(() => loadHfGpt2(hfDir('broken', tensors)));
    expect(msg).toContain('6 problems with the checkpoint');
    expect(msg).toContain('tensor h.1.ln_2.weight [4] is missing');
    expect(msg).toContain('tensor ln_f.bias [4] is missing');
    expect(msg).toContain('unexpected tensor h.2.ln_1.weight');
    expect(msg).toContain("tensor h.0.attn.c_attn.weight has shape [12,4], config.json implies [4,12] (transposed: nn.Linear's [out, in]");
    expect(msg).toContain('tensor h.1.mlp.c_fc.bias has dtype I32; bonsai reads F32, F16 and BF16');
    expect(msg).toContain('tensor lm_head.weight differs from wte.weight');
  });

  it('names every unsupported config.json field', () => {
    const tensors = fixtureTensors();
    const bad = { ...fixtureConfig, activation_function: 'gelu', n_head: 3, n_layer: undefined, scale_attn_by_inverse_layer_idx: true, add_cross_attention: true };
    const msg = errorOf(() => loadHfGpt2(hfDir('bad-config', tensors, bad)));
    expect(msg).toMatch(/config\.json: 5 config fields bonsai cannot honour/);
    for (const field of ['activation_function: "gelu" not supported', 'n_layer: missing', 'n_embd: 4 must be divisible by n_head (3)', 'scale_attn_by_inverse_layer_idx', 'add_cross_attention']) {
      expect(msg).toContain(field);
    }
    // model_type picks the family: a GPT-2 folder relabelled llama is read (and refused) as a Llama.
    expect(errorOf(() => loadHfGpt2(hfDir('relabelled', tensors, { ...fixtureConfig, model_type: 'llama' })))).toMatch(/hidden_size: missing/);
    writeFileSync(join(scratch, 'bad-config', 'config.json'), '{ not json');
    expect(errorOf(() => loadHfGpt2(join(scratch, 'bad-config')))).toMatch(/config\.json: not valid JSON/);
    rmSync(join(scratch, 'bad-config', 'config.json'));
    expect(errorOf(() => loadHfGpt2(join(scratch, 'bad-config')))).toMatch(/config\.json: missing/);
  });
});

describe('saveHfGpt2', () => {
  it('round-trips the fixture byte for byte', () => {
    const { model } = loadHfGpt2(FIXTURE);
    const out = join(scratch, 'saved');
    saveHfGpt2(model, out);
    // The fixture was written in the reference writer's layout, so the bytes agree exactly.
    expect(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(FIXTURE, 'model.safetensors')))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual({ ...fixtureConfig, torch_dtype: 'float32' });
    const again = loadHfGpt2(out).model;
    expect(again.fingerprint()).toBe(model.fingerprint());
    model.dispose();
    again.dispose();
  });

  it('round-trips an untied model with a non-default MLP width', () => {
    const config = modelConfig({ vocabSize: 50260, dModel: 6, nLayers: 1, nHeads: 3, dMlp: 10, nCtx: 5, tiedEmbeddings: false, layerNormEps: 1e-6 });
    const model = HookedTransformer.create(config, 9);
    const dir = join(scratch, 'untied');
    saveHfGpt2(model, dir);
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ n_inner: 10, tie_word_embeddings: false, layer_norm_epsilon: 1e-6, vocab_size: 50260 });
    expect(readSafetensors(join(dir, 'model.safetensors')).tensors['lm_head.weight']!.shape).toEqual([50260, 6]);
    const loaded = loadHfGpt2(dir);
    expect(loaded.config).toEqual(config);
    expect(loaded.model.fingerprint()).toBe(model.fingerprint());
    loaded.model.dispose();
    // GPT-2's lm_head has no bias: a trained one cannot be saved in HF's layout.
    model.params.get('unembed.b_U')!.assign(tf.fill([50260], 0.5));
    expect(errorOf(() => saveHfGpt2(model, dir))).toMatch(/unembed\.b_U is not zero/);
    model.dispose();
  });

  it('refuses a model whose vocabulary is smaller than GPT-2 tokenizer', () => {
    const model = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 4, nLayers: 1, nHeads: 1, nCtx: 4 }), 1);
    expect(errorOf(() => saveHfGpt2(model, join(scratch, 'small')))).toMatch(/vocabulary of 257 is smaller than GPT-2's tokenizer/);
    model.dispose();
  });

  it('a fixture copy without config.json or with a pickle says so', () => {
    const dir = join(scratch, 'pickle');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(FIXTURE, 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'pytorch_model.bin'), '');
    expect(errorOf(() => loadHfGpt2(dir))).toMatch(/neither model\.safetensors nor model\.safetensors\.index\.json found \(pytorch_model\.bin is a pickle/);
    expect(errorOf(() => loadHfGpt2(join(scratch, 'nope')))).toMatch(/no such directory/);
  });
});
