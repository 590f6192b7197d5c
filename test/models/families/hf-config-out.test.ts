import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decoderConfigFromHf, familyConfigFromRecipe } from '../../../src/models/families/config.ts';
import { FAMILIES } from '../../../src/models/families/index.ts';
import { hfConfigOfDecoder } from '../../../src/models/families/config.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'hf');

describe('hfConfigOfDecoder: a DecoderConfig written back as config.json', () => {
  // Every fixture family, with what makes it differ: GQA, llama3 and linear RoPE scaling,
  // q/k/v bias (Qwen2), q/k norm (Qwen3), partial rotary and parallel residual (Pythia).
  for (const name of readdirSync(FIXTURES)) {
    it(`reads back as the same config (${name})`, () => {
      const file = join(FIXTURES, name, 'config.json');
      const config = decoderConfigFromHf(JSON.parse(readFileSync(file, 'utf8')), file);
      expect(decoderConfigFromHf(hfConfigOfDecoder(config), 'written')).toEqual(config);
    });
  }

  it('keeps a from-scratch model\'s settings, and names its architecture', () => {
    const c = familyConfigFromRecipe({ family: 'qwen3', vocab_size: 40, d_model: 32, n_layers: 2, n_heads: 4, n_kv_heads: 2, head_dim: 16, d_mlp: 48, n_ctx: 64, tied_embeddings: true, layer_norm_eps: 1e-6, init_std: 0.05, rope_theta: 5e5 });
    const hf = hfConfigOfDecoder(c);
    expect(hf).toMatchObject({ architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', head_dim: 16, num_key_value_heads: 2, rope_theta: 5e5, max_position_embeddings: 64, initializer_range: 0.05 });
    expect(decoderConfigFromHf(hf, 'written')).toEqual(c);
  });

  it.each(FAMILIES.map((f) => [f.name, f] as const))('%s: a from-scratch config reads back the same, and the recipe fields it reads land in it', (name, family) => {
    const reads = (k: string) => family.recipeFields.includes(k as never);
    const c = familyConfigFromRecipe({
      family: name, vocab_size: 40, d_model: 32, n_layers: 2, n_heads: 4, d_mlp: 48, n_ctx: 32, tied_embeddings: false, layer_norm_eps: 1e-6, init_std: 0.05,
      ...(reads('n_kv_heads') ? { n_kv_heads: 2 } : {}),
      ...(reads('rope_theta') ? { rope_theta: 5e5 } : {}),
      ...(reads('sliding_window') ? { sliding_window: 8 } : {}),
    });
    expect(c).toMatchObject({ family: name, nLayers: 2, dModel: 32, tiedEmbeddings: false, initStd: 0.05, normEps: 1e-6 });
    if (reads('n_kv_heads')) expect(c.nKvHeads).toBe(2);
    if (reads('rope_theta')) expect(c.rope?.theta).toBe(5e5);
    if (reads('sliding_window')) expect(c.window?.size).toBe(8);
    expect(decoderConfigFromHf(hfConfigOfDecoder(c), 'written')).toEqual(c);
  });
});
