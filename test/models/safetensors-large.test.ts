/**
 * Files of any size: a safetensors file past 2 GiB (sparse: only its header and two small
 * tensors take disk) is read tensor by tensor from its offsets; a model too big for the backend
 * is refused from config.json before any weight is read, in the command's own settings.
 */
import { closeSync, cpSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSafetensors, readSafetensors, readSafetensorsBuffer, safetensorsBuffer, safetensorsChunks, writeSafetensors } from '../../src/models/safetensors.ts';
import { verifyCheckpointDir, writeCheckpointDir } from '../../src/models/checkpoint-io.ts';
import { checkModelFits, countParams } from '../../src/trainer/load-fit.ts';
import { readHfDecoderConfig } from '../../src/models/families/load.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir } from '../helpers/recipes.ts';

const root = tempDir('bonsai-large-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a safetensors file past 2 GiB', () => {
  it('reads a tensor that lies past the 2 GiB mark from its offset, without reading the rest', () => {
    const FILLER = 2 ** 31 + 4096; // U8 bytes between the two small tensors
    const head = Float32Array.from([1, 2, 3, 4]);
    const tail = Float32Array.from([-1.5, 0.25, 7, 1e-3]);
    const header = {
      head: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      filler: { dtype: 'U8', shape: [FILLER], data_offsets: [16, 16 + FILLER] },
      tail: { dtype: 'F32', shape: [2, 2], data_offsets: [16 + FILLER, 32 + FILLER] },
    };
    let json = Buffer.from(JSON.stringify(header));
    json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
    const start = 8 + json.length;
    const path = join(root, 'big.safetensors');
    const fd = openSync(path, 'w');
    try {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      writeSync(fd, len, 0, 8, 0);
      writeSync(fd, json, 0, json.length, 8);
      writeSync(fd, Buffer.from(head.buffer), 0, 16, start);
      ftruncateSync(fd, start + 32 + FILLER); // the filler stays a hole: no disk, no memory
      writeSync(fd, Buffer.from(tail.buffer), 0, 16, start + 16 + FILLER);
    } finally {
      closeSync(fd);
    }
    expect(statSync(path).size).toBeGreaterThan(2 ** 31);
    const file = openSafetensors(path);
    try {
      expect(file.names().sort()).toEqual(['filler', 'head', 'tail']);
      expect(file.entry('filler')).toMatchObject({ dtype: 'U8', begin: 16, end: 16 + FILLER });
      const t = file.read('tail');
      expect(t.shape).toEqual([2, 2]);
      expect(Array.from(t.data as Float32Array)).toEqual(Array.from(tail));
      expect(Array.from(file.read('head').data as Float32Array)).toEqual([1, 2, 3, 4]);
    } finally {
      file.close();
      rmSync(path);
    }
  });

  it('a truncated file is refused from its header, naming the file', () => {
    const path = join(root, 'short.safetensors');
    const json = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1000], data_offsets: [0, 4000] } }).padEnd(64));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(path, Buffer.concat([len, json, Buffer.alloc(100)]));
    expect(() => openSafetensors(path)).toThrow(/short\.safetensors[\s\S]*truncated: tensor w ends at data byte 4000, file has 100 data bytes|truncated: tensor w ends at data byte 4000/);
    expect(() => readSafetensorsBuffer(Buffer.concat([len, json]), 'buf')).toThrow(/truncated/);
  });
});

describe('writing tensor by tensor', () => {
  const tensors = {
    b: { dtype: 'BF16' as const, shape: [3], data: Float32Array.from([1, -2, 0.5]) },
    a: { dtype: 'F32' as const, shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
    h: { dtype: 'F16' as const, shape: [2], data: Float32Array.from([0.25, -8]) },
  };

  it('writes the same bytes as the one-buffer encoder, to a file and into a checkpoint with its manifest', () => {
    const whole = safetensorsBuffer(tensors, { format: 'pt' });
    const chunks = safetensorsChunks(tensors, { format: 'pt' });
    expect(chunks.size).toBe(whole.length);
    const path = join(root, 'w.safetensors');
    writeSafetensors(path, tensors, { format: 'pt' });
    expect(readFileSync(path).equals(whole)).toBe(true);
    expect(Array.from(readSafetensors(path).tensors.h!.data as Float32Array)).toEqual([0.25, -8]);
    const ck = join(root, 'ck');
    writeCheckpointDir(ck, { 'model.safetensors': chunks, 'config.json': '{}' });
    expect([...verifyCheckpointDir(ck)].sort()).toEqual(['config.json', 'model.safetensors']);
    expect(readFileSync(join(ck, 'model.safetensors')).equals(whole)).toBe(true);
    writeFileSync(join(ck, 'model.safetensors'), Buffer.concat([whole.subarray(0, whole.length - 1), Buffer.from([whole[whole.length - 1]! ^ 1])]));
    expect(() => verifyCheckpointDir(ck)).toThrow(/model\.safetensors does not match its sha256/);
  });
});

/** A directory with a Qwen2.5-style config.json of the given size, the qwen3 fixture's tokenizer, and no weights at all. */
function configOnly(name: string, shape: Record<string, number>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) cpSync(join('test/fixtures/hf/qwen3', f), join(dir, f));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', rms_norm_eps: 1e-6, rope_theta: 1000000,
    tie_word_embeddings: true, max_position_embeddings: 32768, use_sliding_window: false, torch_dtype: 'bfloat16', ...shape,
  }));
  return dir;
}

// Qwen2.5-1.5B's published shape, and SmolLM2-360M's (in a Qwen2 config: q/k/v biases add a few).
const QWEN_1_5B = { vocab_size: 151936, hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2 };
const SMOL_360M = { vocab_size: 49152, hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32, num_attention_heads: 15, num_key_value_heads: 5 };

describe('a model too big for the backend', () => {
  it('bonsai generate refuses a 1.5B model on wasm before reading weights, with the figure and flags that fit', () => {
    const dir = configOnly('q15', QWEN_1_5B);
    expect(countParams(readHfDecoderConfig(dir))).toBeGreaterThan(1.5e9);
    const r = bonsai(['generate', '--hf', dir, '--prompt', 'hi', '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a model of 1\.54B parameters needs about 12\.35 GB for its float32 weights with the packed copy of each that wasm.s XNNPACK keeps; the wasm heap maximum is 4\.29 GB, of which bonsai plans 3\.44 GB\. Refused before reading its weights/);
    expect(r.stderr).toMatch(/--backend cpu or --backend tensorflow/);
    expect(r.stderr).toMatch(/a smaller model: at most about 429M parameters on wasm/);
    expect(r.stderr).not.toMatch(/trainer\.|batch_size|model\.safetensors/); // no training settings; no weights read
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('training suggests LoRA with the base frozen when the weights fit but full fine-tuning does not', () => {
    const config = readHfDecoderConfig(configOnly('s360', SMOL_360M));
    const err = (() => {
      try {
        checkModelFits(config, 'model.init.hf s360', 'wasm', { command: 'train', trainsAll: true });
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(err).toMatch(/model\.init\.hf s360: a model of 362M parameters needs about 7\.\d+ GB for its weights, gradients and optimizer state with the packed copy/);
    expect(err).toMatch(/LoRA adapters with the base kept frozen \(the lora: section\): the base's weights need 2\.\d+ GB/);
    expect(err).toMatch(/backend: cpu or backend: tensorflow/);
    expect(() => checkModelFits(config, 's360', 'wasm', { command: 'train' })).not.toThrow(); // LoRA: the weights alone (and their packed copies)
    expect(() => checkModelFits(config, 's360', 'webgpu', { command: 'train', trainsAll: true })).not.toThrow(); // limit unknown
  });
});
