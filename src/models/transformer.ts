import * as tf from '@tensorflow/tfjs';
import { addKeepingNothing, gelu, layerNorm, linear, matMulNTWide, reshapeKeepingNothing } from '../backend/ops.ts';
import { attendHeads, type KvContext } from './attention.ts';
import { dHead, validateModelConfig, withDerived, type ModelConfig } from './config.ts';
import { HookedModel } from './base-model.ts';
import type { ForwardOptions, HookRunner } from './hooks.ts';
import { recomputed } from '../backend/recompute.ts';
import { requireGpt2, type LMConfig } from './lm-config.ts';
import { initialValues } from './params.ts';
import type { ParamValues } from './params.ts';

export type { ForwardResult, HiddenResult } from './model.ts';

/** A GPT-2 config; `family`, `nKvHeads` and `dHead` may be left out (they are derived). */
export type Gpt2ConfigInput = Omit<ModelConfig, 'family' | 'nKvHeads' | 'dHead'> & Partial<ModelConfig>;

/**
 * A GPT-2-style decoder (pre-LayerNorm, learned positions, GELU MLP, tied or untied
 * unembedding) with TransformerLens hook points and parameters named by path. One CausalLM
 * family (model.ts); tools take a CausalLM, not this class.
 */
export class HookedTransformer extends HookedModel<ModelConfig> {
  private readonly causalMask: tf.Tensor2D; // [nCtx, nCtx], 0 on/below diagonal, -1e9 above

  private constructor(config: Gpt2ConfigInput | LMConfig, values: ParamValues, frozen: boolean) {
    const full = withDerived(requireGpt2(config as LMConfig, 'HookedTransformer'));
    validateModelConfig(full);
    super(full, values, frozen);
    this.causalMask = tf.tidy(() => {
      const n = config.nCtx;
      const lower = tf.linalg.bandPart(tf.ones([n, n]), -1, 0);
      return tf.mul(tf.sub(1, lower), -1e9) as tf.Tensor2D;
    });
  }

  /** A freshly initialised model; the same seed gives the same weights on every backend. */
  static create(config: Gpt2ConfigInput | LMConfig, seed: number): HookedTransformer {
    return new HookedTransformer(config, initialValues(withDerived(requireGpt2(config as LMConfig, 'HookedTransformer')), seed), false);
  }

  /** A model from parameter values by path (e.g. a checkpoint). Every path must be present. A config of another family is refused: registry.ts's modelFromValues builds any family. */
  static fromValues(config: Gpt2ConfigInput | LMConfig, values: ParamValues): HookedTransformer {
    return new HookedTransformer(config, values, false);
  }

  /** A frozen copy (see CausalLM.frozenCopy), typed as this class. */
  override frozenCopy(): HookedTransformer {
    return super.frozenCopy() as HookedTransformer;
  }

  protected override rebuild(values: Map<string, Float32Array>, frozen: boolean): HookedTransformer {
    return new HookedTransformer(this.config, values, frozen);
  }

  protected override hiddenInner(ids: tf.Tensor2D, B: number, T: number, hooks: HookRunner, kv?: KvContext, opts: ForwardOptions = {}): tf.Tensor3D {
    const { dModel: D, nLayers } = this.config;
    const embed = hooks.run('hook_embed', tf.gather(this.param('embed.W_E'), ids)); // [B, T, D]
    // Learned positions: 0…T−1 ([1, T, D]), or under the cache each row's own ([B, T, D]).
    const posRows = kv ? tf.gather(this.param('pos_embed.W_pos'), kv.step.positions) : tf.slice(this.param('pos_embed.W_pos'), [0, 0], [T, D]).expandDims(0);
    const pos = hooks.run('hook_pos_embed', posRows);
    let x = tf.add(embed, pos) as tf.Tensor; // [B, T, D]
    const mask = tf.slice(this.causalMask, [0, 0], [T, T]); // [T, T]
    for (let i = 0; i < nLayers; i++) {
      // Recomputation keeps only the block's input for the backward pass; a block with a
      // hook or cached activation runs plainly, so hooks run exactly once per forward. It
      // is a training-time setting, so a cached (decoding) pass never recomputes.
      // Otherwise an unhooked block is its own scope: what its backward needs is saved on the tape, the rest dies here.
      const own = !kv && !this.blockHooked(i, hooks);
      const h = x;
      x = own && opts.recompute
        ? recomputed((hin) => this.block(i, hin, this.maskFor(hin.shape[1]!), hooks), x)
        : own ? tf.tidy(() => this.block(i, h, mask, hooks)) : this.block(i, x, mask, hooks, kv);
    }
    return hooks.run('ln_final.hook_normalized', this.layerNorm(x, 'ln_final')) as tf.Tensor3D; // [B, T, D]
  }

  /** Block i on the residual stream x: [B, T, D] → [B, T, D]. */
  private block(i: number, x: tf.Tensor, mask: tf.Tensor, hooks: HookRunner, kv?: KvContext): tf.Tensor {
    const [B, T] = x.shape as [number, number, number];
    const b = `blocks.${i}`;
    x = hooks.run(`${b}.hook_resid_pre`, x, i);
    const attnOut = hooks.run(`${b}.hook_attn_out`, this.attention(i, this.layerNorm(x, `${b}.ln1`), mask, B, T, hooks, kv), i);
    x = hooks.run(`${b}.hook_resid_mid`, addKeepingNothing(x, attnOut), i);
    const mlpOut = hooks.run(`${b}.hook_mlp_out`, this.mlp(i, this.layerNorm(x, `${b}.ln2`), B, T, hooks), i);
    return hooks.run(`${b}.hook_resid_post`, addKeepingNothing(x, mlpOut), i);
  }

  /** The causal mask for t positions, sliced afresh (a recomputed block outlives the forward's tensors). */
  private maskFor(t: number): tf.Tensor {
    return tf.slice(this.causalMask, [0, 0], [t, t]);
  }

  protected override unembedInner(flat: tf.Tensor2D, decoding = false): tf.Tensor2D {
    const frozen = this.frozenHeadLogits(flat);
    if (frozen) return frozen; // [N, V]
    if (decoding && this.config.tiedEmbeddings) return matMulNTWide(flat, this.param('embed.W_E') as tf.Tensor2D); // [N, V]
    return this.config.tiedEmbeddings
      ? linear(flat, tf.transpose(this.param('embed.W_E')) as tf.Tensor2D)
      : this.linearAt('unembed.W_U', flat, 'unembed.b_U'); // [N, V]
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    return layerNorm(x, this.param(`${prefix}.w`) as tf.Tensor1D, this.param(`${prefix}.b`) as tf.Tensor1D, this.config.layerNormEps);
  }

  /** Linear layer on [B, T, in] through the 2-D product the backend makes fast. */
  private dense(x: tf.Tensor, W: string, bias: string, B: number, T: number): tf.Tensor {
    const y = this.linearAt(W, reshapeKeepingNothing(x, [B * T, -1]) as tf.Tensor2D, bias); // [B·T, out]
    return reshapeKeepingNothing(y, [B, T, y.shape[1]]);
  }

  private attention(i: number, h: tf.Tensor, mask: tf.Tensor, B: number, T: number, hooks: HookRunner, kv?: KvContext): tf.Tensor {
    const a = `blocks.${i}.attn`;
    const H = this.config.nHeads;
    const dh = dHead(this.config);
    // [B, T, D] → [B, T, H, dh], hooked in TransformerLens's layout.
    const heads = (name: 'Q' | 'K' | 'V') =>
      hooks.run(`${a}.hook_${name.toLowerCase()}`, reshapeKeepingNothing(this.dense(h, `${a}.W_${name}`, `${a}.b_${name}`, B, T), [B, T, H, dh]), i) as tf.Tensor4D;
    const [q, k, v] = [heads('Q'), heads('K'), heads('V')];
    const z = attendHeads(q, k, v, mask as tf.Tensor2D, 1 / Math.sqrt(dh), hooks, `${a}.hook_pattern`, i, kv); // [B, T, H, dh]
    const zHooked = hooks.run(`${a}.hook_z`, z, i);
    return this.dense(zHooked, `${a}.W_O`, `${a}.b_O`, B, T); // [B, T, D]
  }

  private mlp(i: number, h: tf.Tensor, B: number, T: number, hooks: HookRunner): tf.Tensor {
    const m = `blocks.${i}.mlp`;
    const pre = hooks.run(`${m}.hook_pre`, this.dense(h, `${m}.W_in`, `${m}.b_in`, B, T), i); // [B, T, M]
    const post = hooks.run(`${m}.hook_post`, gelu(pre), i);
    return this.dense(post, `${m}.W_out`, `${m}.b_out`, B, T); // [B, T, D]
  }

  override dispose(): void {
    super.dispose();
    this.causalMask.dispose();
  }
}
