import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decoderConfigFromHf, familyConfigFromRecipe } from '../../../src/models/families/config.ts';
import { hfConfigOfDecoder } from '../../../src/models/families/hf-config-out.ts';

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
});
