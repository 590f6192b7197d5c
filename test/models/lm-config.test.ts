/** Checkpoints store a model's config; those written before today's family flags still read back as the same model. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decoderConfigFromHf } from '../../src/models/families/config.ts';
import { modelConfig } from '../../src/models/families/gpt2.ts';
import { configFromStored, sameArchitecture, storedConfig } from '../../src/models/lm-config.ts';

const hf = (name: string) => decoderConfigFromHf(JSON.parse(readFileSync(`test/fixtures/hf/${name}/config.json`, 'utf8')), name);

describe('stored configs', () => {
  it('GPT-2 is stored exactly as before families existed (no family field) and reads back', () => {
    const c = modelConfig({ vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 12, tiedEmbeddings: false });
    const stored = storedConfig(c);
    expect(stored).toEqual({ vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 64, nCtx: 12, tiedEmbeddings: false, layerNormEps: 1e-5, initStd: 0.02 });
    expect(configFromStored(stored, 'ck/config.json')).toEqual(c);
    expect(() => configFromStored({ ...stored, dModel: 15 }, 'ck/config.json')).toThrow(/invalid model config in ck\/config\.json: dModel \(15\) must be divisible by nHeads \(2\)/);
  });

  it('family configs stored before the flags were split (mlp "swiglu", qkNorm true, qkvBias/denseBias) read as the same model', () => {
    const old = {
      family: 'qwen3', vocabSize: 283, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dHead: 16, dMlp: 48, nCtx: 64, norm: 'rms', normEps: 1e-6,
      rope: { theta: 1000000, rotaryDim: 16 }, qkvBias: false, denseBias: false, qkNorm: true, parallelResidual: false, mlp: 'swiglu', tiedEmbeddings: true, initStd: 0.02,
    };
    expect(configFromStored(old, 'ck')).toEqual(hf('qwen3'));
    const neox = {
      family: 'gpt_neox', vocabSize: 283, dModel: 32, nLayers: 2, nHeads: 2, nKvHeads: 2, dHead: 16, dMlp: 128, nCtx: 64, norm: 'layer', normEps: 1e-5,
      rope: { theta: 10000, rotaryDim: 4 }, qkvBias: true, denseBias: true, qkNorm: false, parallelResidual: true, mlp: 'gelu', tiedEmbeddings: false, initStd: 0.02,
    };
    expect(sameArchitecture(configFromStored(neox, 'ck'), hf('pythia'))).toBe(true);
    expect(configFromStored(storedConfig(hf('mistral')), 'ck')).toEqual(hf('mistral'));
    expect(() => configFromStored({ ...old, family: 'falcon' }, 'ck/config.json')).toThrow(/ck\/config\.json: model family "falcon" unknown \(known: gpt2, llama/);
  });
});
