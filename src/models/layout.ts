/**
 * What a model looks like from its config alone: hook names, parameter paths and shapes,
 * hook widths. Pure functions of the config's flags (no tensors, no tfjs), so a recipe's
 * hooks, freeze globs and parameter paths are checked before any backend is loaded.
 */
import { familyOf } from './families/index.ts';
import type { LMConfig } from './lm-config.ts';

/** A parameter's path, shape and init rule. */
export interface ParamSpec {
  path: string;
  shape: number[];
  init: 'normal' | 'normal_residual' | 'zeros' | 'ones';
}

/**
 * Every parameter of a model with this config, in a fixed order (the order a seed draws
 * them in). Paths follow TransformerLens names; layouts are chosen for fast products on
 * tfjs (x·W with no transposes):
 *   embed.W_E [V, D]; pos_embed.W_pos [nCtx, D] (learned positions)
 *   blocks.{i}.ln1|ln1_post|ln2|ln2_post.w (and .b for LayerNorm), as the norm placement has them
 *   attn.W_Q [D, H·dh] — head h owns columns h·dh … (h+1)·dh; W_K, W_V [D, KV·dh]; b_Q|b_K|b_V
 *   attn.q_norm.w|k_norm.w [dh] (per head) or [H·dh]|[KV·dh] (over the projection)
 *   attn.W_O [H·dh, D] — head h owns rows h·dh … (h+1)·dh; b_O
 *   mlp.W_gate (gated MLPs), W_in [D, M], W_out [M, D] — neuron n is column n of W_in, row n of W_out; b_in, b_out
 *   ln_final.w|b; unembed.W_U [D, V], unembed.b_U (untied only)
 * Freezing selects by these paths, so they are part of the public API.
 */
export function paramSpecs(c: LMConfig): ParamSpec[] {
  const { vocabSize: V, dModel: D, dMlp: M, nHeads: H, nKvHeads: KV, dHead: dh } = c;
  const residual = familyOf(c).scaledResidualInit ? 'normal_residual' : 'normal';
  const specs: ParamSpec[] = [{ path: 'embed.W_E', shape: [V, D], init: 'normal' }];
  const add = (path: string, shape: number[], init: ParamSpec['init'], when = true) => when && specs.push({ path, shape, init });
  const norm = (prefix: string, width = D) => {
    add(`${prefix}.w`, [width], c.normPlusOne ? 'zeros' : 'ones');
    add(`${prefix}.b`, [width], 'zeros', c.norm === 'layer');
  };
  const [pre, post] = [c.normPlacement !== 'post', c.normPlacement !== 'pre'];
  add('pos_embed.W_pos', [c.nCtx, D], 'normal', c.positions === 'learned');
  for (let i = 0; i < c.nLayers; i++) {
    const b = `blocks.${i}`;
    if (pre) norm(`${b}.ln1`);
    add(`${b}.attn.W_Q`, [D, H * dh], 'normal');
    add(`${b}.attn.b_Q`, [H * dh], 'zeros', c.bias.qkv);
    add(`${b}.attn.W_K`, [D, KV * dh], 'normal');
    add(`${b}.attn.b_K`, [KV * dh], 'zeros', c.bias.qkv);
    add(`${b}.attn.W_V`, [D, KV * dh], 'normal');
    add(`${b}.attn.b_V`, [KV * dh], 'zeros', c.bias.qkv);
    if (c.qkNorm !== 'none') {
      const whole = c.qkNorm === 'projection';
      norm(`${b}.attn.q_norm`, whole ? H * dh : dh);
      norm(`${b}.attn.k_norm`, whole ? KV * dh : dh);
    }
    add(`${b}.attn.W_O`, [H * dh, D], residual);
    add(`${b}.attn.b_O`, [D], 'zeros', c.bias.out);
    if (post) norm(`${b}.ln1_post`);
    if (pre) norm(`${b}.ln2`);
    add(`${b}.mlp.W_gate`, [D, M], 'normal', c.mlp.gated);
    add(`${b}.mlp.W_in`, [D, M], 'normal');
    add(`${b}.mlp.b_in`, [M], 'zeros', c.bias.mlp);
    add(`${b}.mlp.W_out`, [M, D], residual);
    add(`${b}.mlp.b_out`, [D], 'zeros', c.bias.mlp);
    if (post) norm(`${b}.ln2_post`);
  }
  norm('ln_final');
  add('unembed.W_U', [D, V], 'normal', !c.tiedEmbeddings);
  add('unembed.b_U', [V], 'zeros', !c.tiedEmbeddings && c.bias.unembed);
  return specs;
}

/**
 * Every hook point of a model, in forward order. Per block: hook_resid_pre; attn.hook_q|k|v
 * (the projections, before any q/k norm and RoPE), attn.hook_rot_q|rot_k (after RoPE),
 * attn.hook_pattern, attn.hook_z; attn.hook_out (W_O's output before a post-norm); hook_attn_out
 * (what joins the residual); hook_resid_mid (sequential residual); mlp.hook_pre (the gate's or
 * W_in's pre-activation), mlp.hook_pre_linear (a gated MLP's W_in), mlp.hook_post; mlp.hook_out
 * (before a post-norm); hook_mlp_out; hook_resid_post.
 */
export function hookNames(c: LMConfig): string[] {
  const post = c.normPlacement !== 'pre';
  const block = ['hook_resid_pre', 'attn.hook_q', 'attn.hook_k', 'attn.hook_v'];
  if (c.positions === 'rope') block.push('attn.hook_rot_q', 'attn.hook_rot_k');
  block.push('attn.hook_pattern', 'attn.hook_z', ...(post ? ['attn.hook_out'] : []), 'hook_attn_out');
  if (!c.parallelResidual) block.push('hook_resid_mid');
  block.push('mlp.hook_pre', ...(c.mlp.gated ? ['mlp.hook_pre_linear'] : []), 'mlp.hook_post', ...(post ? ['mlp.hook_out'] : []), 'hook_mlp_out', 'hook_resid_post');
  const names = ['hook_embed', ...(c.positions === 'learned' ? ['hook_pos_embed'] : [])];
  for (let i = 0; i < c.nLayers; i++) names.push(...block.map((h) => `blocks.${i}.${h}`));
  names.push('ln_final.hook_normalized');
  return names;
}

/**
 * Width of a hook's last axis: D for residual-stream hooks, M for MLP hooks, dh for
 * q/k/v/z (and rot_q/rot_k); undefined for attention patterns, whose last axis is a position.
 */
export function hookFeatureWidth(c: Pick<LMConfig, 'dModel' | 'dMlp' | 'nHeads'> & { dHead?: number }, hook: string): number | undefined {
  if (/\.mlp\.hook_(pre|pre_linear|post)$/.test(hook)) return c.dMlp;
  if (/\.attn\.hook_(q|k|v|z|rot_q|rot_k)$/.test(hook)) return c.dHead ?? c.dModel / c.nHeads;
  if (/\.attn\.hook_pattern$/.test(hook)) return undefined;
  return c.dModel;
}

/** A model as the recipe checks see it: config, hook names, parameter shapes by path. */
export interface ModelLayout {
  config: LMConfig;
  hooks: readonly string[];
  params: ReadonlyMap<string, readonly number[]>;
}

/** The layout of a model with config `c`. */
export function modelLayout(c: LMConfig): ModelLayout {
  return { config: c, hooks: hookNames(c), params: new Map(paramSpecs(c).map((s) => [s.path, s.shape])) };
}
