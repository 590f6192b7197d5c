/** Sliding-window attention read from config.json (Mistral's on every layer, Qwen's from max_window_layers), and shown to matter. */
import { beforeAll, describe, expect, it } from 'vitest';
import { decoderConfigFromHf } from '../../../src/models/families/config.ts';
import { configError, fixtureConfig, goldenOffBy } from '../../helpers/golden.ts';
import { useCpu } from '../../helpers/tiny.ts';

const config = fixtureConfig;
const errorOf = (raw: Record<string, unknown>) => configError(raw, 'w/config.json');

beforeAll(useCpu);

describe('sliding windows in Mistral and Qwen', () => {
  it("Mistral's window covers every layer; Qwen's only with use_sliding_window, from max_window_layers on", () => {
    expect(decoderConfigFromHf(config('mistral'), 'x').window).toEqual({ size: 4, layers: [true, true] });
    expect(decoderConfigFromHf({ ...config('mistral'), sliding_window: null }, 'x').window).toBeUndefined();
    expect(decoderConfigFromHf(config('qwen2'), 'x').window).toBeUndefined(); // use_sliding_window false
    const qwen = decoderConfigFromHf({ ...config('qwen2'), use_sliding_window: true, sliding_window: 8, max_window_layers: 1 }, 'x');
    expect(qwen.window).toEqual({ size: 8, layers: [false, true] });
    const typed = decoderConfigFromHf({ ...config('qwen3'), use_sliding_window: true, sliding_window: 8, layer_types: ['full_attention', 'sliding_attention'] }, 'x');
    expect(typed.window).toEqual({ size: 8, layers: [false, true] });
  });

  it('bad input names config.json and the field: a window larger than the context, an unknown layer type', () => {
    expect(errorOf({ ...config('mistral'), sliding_window: 65 })).toContain('w/config.json: sliding_window: 65 is larger than the context (max_position_embeddings 64)');
    expect(errorOf({ ...config('mistral'), sliding_window: 0 })).toContain('w/config.json: sliding_window: expected a positive integer, got 0');
    const { sliding_window: _w, ...absent } = config('mistral');
    expect(errorOf(absent)).toContain("sliding_window: 4096 (transformers' default when the field is absent) is larger than the context");
    const types = errorOf({ ...config('qwen2'), use_sliding_window: true, sliding_window: 8, layer_types: ['full_attention', 'chunked_attention'] });
    expect(types).toContain('w/config.json: layer_types[1]: "chunked_attention" is not a layer type bonsai implements (sliding_attention, full_attention)');
  });

  it("the Mistral fixture's window moves its logits far past the golden tolerance", () => {
    expect(goldenOffBy('mistral')).toBeLessThan(1e-4);
    expect(goldenOffBy('mistral', { window: undefined })).toBeGreaterThan(1e-3);
  });
});
