/** OLMo 2's config.json and layout: norms after the sublayers only, q/k norms over the whole projections. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decoderConfigFromHf } from '../../../src/models/families/config.ts';
import { modelLayout } from '../../../src/models/layout.ts';
import { HF_FIXTURES } from '../../helpers/golden.ts';

const config = () => decoderConfigFromHf(JSON.parse(readFileSync(join(HF_FIXTURES, 'olmo2', 'config.json'), 'utf8')), 'olmo2/config.json');

describe('OLMo 2', () => {
  it('reads as post-norms and projection-wide q/k norms, untied', () => {
    expect(config()).toMatchObject({ family: 'olmo2', normPlacement: 'post', qkNorm: 'projection', normPlusOne: false, mlp: { gated: true, act: 'silu' }, tiedEmbeddings: false });
  });

  it("has no pre-norms; q_norm spans the query heads, k_norm the key/value heads; the projections' outputs are hooked before their norms", () => {
    const { params, hooks } = modelLayout(config()); // 4 query heads, 2 key/value heads of 8
    expect(params.has('blocks.0.ln1.w')).toBe(false);
    expect(params.get('blocks.0.ln1_post.w')).toEqual([32]);
    expect(params.get('blocks.0.attn.q_norm.w')).toEqual([32]);
    expect(params.get('blocks.0.attn.k_norm.w')).toEqual([16]);
    expect(hooks).toContain('blocks.1.attn.hook_out');
    expect(hooks).toContain('blocks.1.mlp.hook_out');
  });
});
