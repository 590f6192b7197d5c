/**
 * Gemma 2 and Gemma 3 (text): config.json read as transformers reads it, every field it cannot
 * honour named, and every Gemma flag shown to move the logits past golden.test.ts's tolerance
 * (so a flag the decoder ignored would fail it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decoderConfigFromHf } from '../../../src/models/families/config.ts';
import { configError, fixtureConfig, goldenOffBy } from '../../helpers/golden.ts';
import { useCpu } from '../../helpers/tiny.ts';

const config = fixtureConfig;
const errorOf = (raw: Record<string, unknown>) => configError(raw, 'g/config.json');

beforeAll(useCpu);

describe('Gemma config.json', () => {
  it('Gemma 2: four (1 + w) norms, GeGLU, query_pre_attn_scalar, both soft-caps, local layers alternating from the first', () => {
    expect(decoderConfigFromHf(config('gemma2'), 'x')).toMatchObject({
      family: 'gemma2',
      normPlacement: 'sandwich',
      normPlusOne: true,
      mlp: { gated: true, act: 'gelu_tanh' },
      attnScale: Math.pow(24, -0.5),
      attnSoftcap: 5,
      finalSoftcap: 1,
      embedScale: Math.fround(Math.sqrt(32)),
      window: { size: 4, layers: [true, false, true] },
      tiedEmbeddings: true,
    });
    // Absent soft-caps take transformers' Gemma 2 defaults; null turns them off.
    const { attn_logit_softcapping: _a, final_logit_softcapping: _f, ...absent } = config('gemma2');
    expect(decoderConfigFromHf(absent, 'x')).toMatchObject({ attnSoftcap: 50, finalSoftcap: 30 });
    const off = decoderConfigFromHf({ ...config('gemma2'), attn_logit_softcapping: null, final_logit_softcapping: null }, 'x');
    expect([off.attnSoftcap, off.finalSoftcap]).toEqual([undefined, undefined]);
  });

  it('Gemma 3: q/k norm, local RoPE base, scaled global RoPE, √48 rounded to bf16 as the bf16 model computes it', () => {
    const c = decoderConfigFromHf(config('gemma3'), 'x');
    expect(c).toMatchObject({ family: 'gemma3', qkNorm: 'head', embedScale: 6.9375, window: { size: 4, layers: [true, true, false, true] } });
    expect(c.rope).toEqual({ theta: 1000, rotaryDim: 16, scaling: { type: 'linear', factor: 4 } });
    expect(c.localRope).toEqual({ theta: 100, rotaryDim: 16 });
    expect([c.attnSoftcap, c.finalSoftcap]).toEqual([undefined, undefined]);
    expect(decoderConfigFromHf({ ...config('gemma3'), torch_dtype: 'float32' }, 'x').embedScale).toBe(Math.fround(Math.sqrt(48)));
  });

  it('reads sliding_window_pattern (older files) and rope_parameters by layer type (newer files) as the same model', () => {
    const { layer_types: _l, ...pattern } = config('gemma3');
    expect(decoderConfigFromHf(pattern, 'x')).toEqual(decoderConfigFromHf(config('gemma3'), 'x'));
    const { rope_theta: _t, rope_scaling: _s, rope_local_base_freq: _b, ...rest } = config('gemma3');
    const newer = { ...rest, rope_parameters: { full_attention: { rope_type: 'linear', factor: 4, rope_theta: 1000 }, sliding_attention: { rope_type: 'default', rope_theta: 100 } } };
    expect(decoderConfigFromHf(newer, 'x')).toEqual(decoderConfigFromHf(config('gemma3'), 'x'));
  });

  it('bad input names config.json and the field: an unknown layer type, a soft-cap ≤ 0, a window larger than the context', () => {
    const types = errorOf({ ...config('gemma3'), layer_types: ['sliding_attention', 'chunked_attention', 'full_attention', 'sliding_attention'] });
    expect(types).toContain('g/config.json: layer_types[1]: "chunked_attention" is not a layer type bonsai implements (sliding_attention, full_attention)');
    expect(errorOf({ ...config('gemma3'), layer_types: ['full_attention'] })).toContain('layer_types: expected a list of 4 entries');
    const caps = errorOf({ ...config('gemma2'), attn_logit_softcapping: 0, final_logit_softcapping: -30 });
    expect(caps).toContain('g/config.json: attn_logit_softcapping: must be a positive number or null, got 0');
    expect(caps).toContain('g/config.json: final_logit_softcapping: must be a positive number or null, got -30');
    expect(errorOf({ ...config('gemma2'), sliding_window: 128 })).toContain('g/config.json: sliding_window: 128 is larger than the context (max_position_embeddings 64)');
    const { sliding_window: _w, ...noWindow } = config('gemma2');
    expect(errorOf(noWindow)).toContain("sliding_window: 4096 (transformers' default when the field is absent) is larger than the context");
    const more = errorOf({ ...config('gemma2'), query_pre_attn_scalar: 0, hidden_activation: 'relu' });
    expect(more).toContain('query_pre_attn_scalar: expected a positive number, got 0');
    expect(more).toContain('hidden_activation: "relu" not supported');
    expect(errorOf({ ...config('gemma3'), sliding_window: null })).toContain('sliding_window: missing or null, but layer_types has sliding_attention layers');
  });
});

describe('every Gemma flag moves the logits past the golden tolerance', () => {
  it.each([
    ['gemma2', { window: undefined }],
    ['gemma2', { attnSoftcap: undefined }],
    ['gemma2', { finalSoftcap: undefined }],
    ['gemma2', { normPlusOne: false }],
    ['gemma2', { attnScale: 1 / Math.sqrt(16) }],
    ['gemma2', { normPlacement: 'pre' as const }],
    ['gemma3', { window: undefined }],
    ['gemma3', { localRope: undefined }],
    ['gemma3', { qkNorm: 'none' as const }],
    ['gemma3', { embedScale: Math.fround(Math.sqrt(48)) }],
  ])('%s without %o', (name, change) => {
    expect(goldenOffBy(name, change)).toBeGreaterThan(1e-3);
  });
});
