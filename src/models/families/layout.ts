/**
 * A family decoder's parameters and hook points from its config alone (no tfjs), so recipe
 * checks validate hooks, freeze globs and parameter paths of a Llama-family model before a
 * backend loads. Layouts match GPT-2's (layout.ts): x·W with W [in, out]; head h owns
 * columns h·dh… of W_Q and rows h·dh… of W_O; key/value head j owns columns j·dh… of W_K/W_V.
 */
import type { ParamSpec } from '../layout.ts';
import type { DecoderConfig } from './config.ts';

/** Every parameter of a family decoder, in a fixed order, with the init a from-scratch model uses (HF: normal(initializer_range), zero biases, unit norms). */
export function familyParamSpecs(c: DecoderConfig): ParamSpec[] {
  const { vocabSize: V, dModel: D, dMlp: M, nHeads: H, nKvHeads: KV, dHead: dh } = c;
  const specs: ParamSpec[] = [{ path: 'embed.W_E', shape: [V, D], init: 'normal' }];
  const add = (path: string, shape: number[], init: ParamSpec['init']) => specs.push({ path, shape, init });
  const norm = (prefix: string) => {
    add(`${prefix}.w`, [D], 'ones');
    if (c.norm === 'layer') add(`${prefix}.b`, [D], 'zeros');
  };
  for (let i = 0; i < c.nLayers; i++) {
    const b = `blocks.${i}`;
    norm(`${b}.ln1`);
    add(`${b}.attn.W_Q`, [D, H * dh], 'normal');
    if (c.qkvBias) add(`${b}.attn.b_Q`, [H * dh], 'zeros');
    add(`${b}.attn.W_K`, [D, KV * dh], 'normal');
    if (c.qkvBias) add(`${b}.attn.b_K`, [KV * dh], 'zeros');
    add(`${b}.attn.W_V`, [D, KV * dh], 'normal');
    if (c.qkvBias) add(`${b}.attn.b_V`, [KV * dh], 'zeros');
    if (c.qkNorm) {
      add(`${b}.attn.q_norm.w`, [dh], 'ones');
      add(`${b}.attn.k_norm.w`, [dh], 'ones');
    }
    add(`${b}.attn.W_O`, [H * dh, D], 'normal');
    if (c.denseBias) add(`${b}.attn.b_O`, [D], 'zeros');
    norm(`${b}.ln2`);
    if (c.mlp === 'swiglu') add(`${b}.mlp.W_gate`, [D, M], 'normal');
    add(`${b}.mlp.W_in`, [D, M], 'normal');
    if (c.denseBias) add(`${b}.mlp.b_in`, [M], 'zeros');
    add(`${b}.mlp.W_out`, [M, D], 'normal');
    if (c.denseBias) add(`${b}.mlp.b_out`, [D], 'zeros');
  }
  norm('ln_final');
  if (!c.tiedEmbeddings) add('unembed.W_U', [D, V], 'normal');
  return specs;
}

/** Every hook point of a family decoder, in forward order. */
export function familyHookNames(c: DecoderConfig): string[] {
  const block = ['hook_resid_pre', 'attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_rot_q', 'attn.hook_rot_k', 'attn.hook_pattern', 'attn.hook_z', 'hook_attn_out'];
  if (!c.parallelResidual) block.push('hook_resid_mid');
  block.push('mlp.hook_pre', ...(c.mlp === 'swiglu' ? ['mlp.hook_pre_linear'] : []), 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post');
  const names = ['hook_embed'];
  for (let i = 0; i < c.nLayers; i++) names.push(...block.map((h) => `blocks.${i}.${h}`));
  names.push('ln_final.hook_normalized');
  return names;
}
