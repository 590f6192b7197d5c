/**
 * What a model looks like from its config alone: hook names, parameter paths and shapes,
 * hook widths. These are pure functions of the config (no tensors, no tfjs), so a recipe's
 * hooks, freeze globs and parameter paths are checked before any backend is loaded.
 */
import type { ModelConfig } from './config.ts';
import { familyHookNames, familyParamSpecs } from './families/layout.ts';
import type { LMConfig } from './lm-config.ts';

/** A parameter's path, shape and init rule. Layouts are described in params.ts. */
export interface ParamSpec {
  path: string;
  shape: number[];
  init: 'normal' | 'normal_residual' | 'zeros' | 'ones';
}

/**
 * Parameter paths and shapes. Paths follow TransformerLens names; the layouts are chosen
 * for fast products on tfjs (x·W with no transposes):
 *   attn.W_Q/W_K/W_V: [D, H·dh] — head h owns columns h·dh … (h+1)·dh
 *   attn.W_O:         [H·dh, D] — head h owns rows    h·dh … (h+1)·dh
 *   mlp.W_in: [D, M], mlp.W_out: [M, D] — neuron n is column n of W_in, row n of W_out
 * Freezing selects by these paths, so they are part of the public API.
 * Every parameter of a model with this config, in a fixed order. Family decoders add
 * `mlp.W_gate`, `attn.q_norm.w|k_norm.w` and drop what they lack (families/layout.ts).
 */
export function paramSpecs(c: LMConfig): ParamSpec[] {
  return c.family === 'gpt2' ? gpt2ParamSpecs(c) : familyParamSpecs(c);
}

function gpt2ParamSpecs(c: ModelConfig): ParamSpec[] {
  const { vocabSize: V, dModel: D, dMlp: M, nCtx } = c;
  const specs: ParamSpec[] = [
    { path: 'embed.W_E', shape: [V, D], init: 'normal' },
    { path: 'pos_embed.W_pos', shape: [nCtx, D], init: 'normal' },
  ];
  for (let i = 0; i < c.nLayers; i++) {
    const b = `blocks.${i}`;
    specs.push(
      { path: `${b}.ln1.w`, shape: [D], init: 'ones' },
      { path: `${b}.ln1.b`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_Q`, shape: [D, D], init: 'normal' },
      { path: `${b}.attn.b_Q`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_K`, shape: [D, D], init: 'normal' },
      { path: `${b}.attn.b_K`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_V`, shape: [D, D], init: 'normal' },
      { path: `${b}.attn.b_V`, shape: [D], init: 'zeros' },
      { path: `${b}.attn.W_O`, shape: [D, D], init: 'normal_residual' },
      { path: `${b}.attn.b_O`, shape: [D], init: 'zeros' },
      { path: `${b}.ln2.w`, shape: [D], init: 'ones' },
      { path: `${b}.ln2.b`, shape: [D], init: 'zeros' },
      { path: `${b}.mlp.W_in`, shape: [D, M], init: 'normal' },
      { path: `${b}.mlp.b_in`, shape: [M], init: 'zeros' },
      { path: `${b}.mlp.W_out`, shape: [M, D], init: 'normal_residual' },
      { path: `${b}.mlp.b_out`, shape: [D], init: 'zeros' },
    );
  }
  specs.push({ path: 'ln_final.w', shape: [D], init: 'ones' }, { path: 'ln_final.b', shape: [D], init: 'zeros' });
  if (!c.tiedEmbeddings) {
    specs.push({ path: 'unembed.W_U', shape: [D, V], init: 'normal' }, { path: 'unembed.b_U', shape: [V], init: 'zeros' });
  }
  return specs;
}

const BLOCK_HOOKS = [
  'hook_resid_pre',
  'attn.hook_q',
  'attn.hook_k',
  'attn.hook_v',
  'attn.hook_pattern',
  'attn.hook_z',
  'hook_attn_out',
  'hook_resid_mid',
  'mlp.hook_pre',
  'mlp.hook_post',
  'hook_mlp_out',
  'hook_resid_post',
];

/** Every hook point of a model, in forward order. */
export function hookNames(c: LMConfig): string[] {
  if (c.family !== 'gpt2') return familyHookNames(c);
  const names = ['hook_embed', 'hook_pos_embed'];
  for (let i = 0; i < c.nLayers; i++) names.push(...BLOCK_HOOKS.map((h) => `blocks.${i}.${h}`));
  names.push('ln_final.hook_normalized');
  return names;
}

/**
 * Width of a hook's last axis: D for residual-stream hooks, M for MLP hooks, dh for
 * q/k/v/z (and rot_q/rot_k); undefined for attention patterns, whose last axis is a position.
 */
export function hookFeatureWidth(c: Pick<ModelConfig, 'dModel' | 'dMlp' | 'nHeads'> & { dHead?: number }, hook: string): number | undefined {
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
