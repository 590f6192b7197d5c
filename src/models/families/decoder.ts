/**
 * A decoder of any Hugging Face family in config.ts (Llama, Mistral, Qwen2, Qwen3, GPT-NeoX),
 * built from the shared pieces in layers.ts and the shared attention core (../attention.ts),
 * with TransformerLens hook points and parameters by path (layout.ts). A CausalLM: every
 * tool runs on it as on GPT-2.
 *
 * Hook points per block i (shapes): hook_resid_pre [B,T,D]; attn.hook_q [B,T,H,dh],
 * attn.hook_k|v [B,T,KV,dh] (one per key/value head under GQA), attn.hook_rot_q|rot_k after
 * RoPE, attn.hook_pattern [B,H,T,T], attn.hook_z [B,T,H,dh]; hook_attn_out; hook_resid_mid
 * (sequential residual only); mlp.hook_pre (gate or W_in pre-activation), mlp.hook_pre_linear
 * (SwiGLU's up projection), mlp.hook_post [B,T,M]; hook_mlp_out; hook_resid_post.
 */
import * as tf from '@tensorflow/tfjs';
import { addKeepingNothing, layerNorm, linear, matMulNTWide, reshapeKeepingNothing } from '../../backend/ops.ts';
import { attendHeads, type KvContext } from '../attention.ts';
import { HookedModel } from '../base-model.ts';
import type { ForwardOptions, HookRunner } from '../hooks.ts';
import { recomputed } from '../../backend/recompute.ts';
import { initialValues } from '../params.ts';
import type { DecoderConfig } from './config.ts';
import { applyRope, geluExact, rmsNorm, ropeInvFreq, ropeTables, ropeTablesAt, swiglu } from './layers.ts';
import type { ParamValues } from '../params.ts';

export { familyHookNames } from './layout.ts';

export class FamilyDecoder extends HookedModel<DecoderConfig> {
  private readonly invFreq: Float32Array;

  /** Values by path (names.ts's hfToBonsai gives them from a checkpoint; layout.ts lists the paths). */
  constructor(config: DecoderConfig, values: ParamValues, frozen = false) {
    super(config, values, frozen);
    this.invFreq = ropeInvFreq(config);
  }

  /** A freshly initialised model (HF's init: normal(initStd) weights, zero biases, unit norms). */
  static create(config: DecoderConfig, seed: number): FamilyDecoder {
    return new FamilyDecoder(config, initialValues(config, seed));
  }

  protected override rebuild(values: Map<string, Float32Array>, frozen: boolean): FamilyDecoder {
    return new FamilyDecoder(this.config, values, frozen);
  }

  protected override hiddenInner(ids: tf.Tensor2D, B: number, T: number, hooks: HookRunner, kv?: KvContext, opts: ForwardOptions = {}): tf.Tensor3D {
    // RoPE angles at 0…T−1 ([T, rotaryDim]), or under the cache at each row's own positions ([B, T, rotaryDim]).
    const { cos, sin } = kv ? ropeTablesAt(this.invFreq, kv.step.positionsJs, B, T) : ropeTables(this.invFreq, T);
    const mask = causalMask(T);
    let x = hooks.run('hook_embed', tf.gather(this.param('embed.W_E'), ids)); // [B, T, D]
    for (let i = 0; i < this.config.nLayers; i++) {
      // Recomputation (memory.recompute) keeps only the block's input for the backward pass and
      // rebuilds the RoPE tables and mask inside the block (the forward's die before the
      // backward); a hooked block, or a cached decoding pass, runs plainly. Otherwise the block
      // is its own scope: what its backward needs is saved on the tape, the rest dies here.
      const own = !kv && !this.blockHooked(i, hooks);
      const h = x;
      x = own && opts.recompute
        ? recomputed((hin) => {
            const t = hin.shape[1]!;
            const r = ropeTables(this.invFreq, t);
            return this.block(i, hin, r.cos, r.sin, causalMask(t), hooks);
          }, x)
        : own ? tf.tidy(() => this.block(i, h, cos, sin, mask, hooks)) : this.block(i, x, cos, sin, mask, hooks, kv);
    }
    return hooks.run('ln_final.hook_normalized', this.norm(x, 'ln_final')) as tf.Tensor3D; // [B, T, D]
  }

  /** Block i on the residual stream x: [B, T, D] → [B, T, D]. */
  private block(i: number, x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, mask: tf.Tensor2D, hooks: HookRunner, kv?: KvContext): tf.Tensor {
    const [B, T] = x.shape as [number, number, number];
    const b = `blocks.${i}`;
    x = hooks.run(`${b}.hook_resid_pre`, x, i);
    const attnOut = hooks.run(`${b}.hook_attn_out`, this.attention(i, this.norm(x, `${b}.ln1`), cos, sin, mask, B, T, hooks, kv), i);
    if (this.config.parallelResidual) {
      const mlpOut = hooks.run(`${b}.hook_mlp_out`, this.mlp(i, this.norm(x, `${b}.ln2`), B, T, hooks), i);
      x = addKeepingNothing(addKeepingNothing(x, attnOut), mlpOut);
    } else {
      x = hooks.run(`${b}.hook_resid_mid`, addKeepingNothing(x, attnOut), i);
      x = addKeepingNothing(x, hooks.run(`${b}.hook_mlp_out`, this.mlp(i, this.norm(x, `${b}.ln2`), B, T, hooks), i));
    }
    return hooks.run(`${b}.hook_resid_post`, x, i);
  }

  protected override unembedInner(flat: tf.Tensor2D, decoding = false): tf.Tensor2D {
    const frozen = this.frozenHeadLogits(flat);
    if (frozen) return frozen; // [N, V]
    if (decoding && this.config.tiedEmbeddings) return matMulNTWide(flat, this.param('embed.W_E') as tf.Tensor2D); // [N, V]
    if (!this.config.tiedEmbeddings) return this.linearAt('unembed.W_U', flat); // [N, V]
    return linear(flat, tf.transpose(this.param('embed.W_E')) as tf.Tensor2D); // [N, V]
  }

  private norm(x: tf.Tensor, prefix: string): tf.Tensor {
    const w = this.param(`${prefix}.w`) as tf.Tensor1D;
    if (this.config.norm === 'rms') return rmsNorm(x, w, this.config.normEps);
    return layerNorm(x, w, this.param(`${prefix}.b`) as tf.Tensor1D, this.config.normEps);
  }

  /** [B, T, in] · W (+ b) → [B, T, out]. */
  private dense(x: tf.Tensor, W: string, bias: string | undefined, B: number, T: number): tf.Tensor {
    const y = this.linearAt(W, reshapeKeepingNothing(x, [B * T, -1]) as tf.Tensor2D, bias && this.hasParam(bias) ? bias : undefined); // [B·T, out]
    return reshapeKeepingNothing(y, [B, T, y.shape[1]]);
  }

  private attention(i: number, h: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, mask: tf.Tensor2D, B: number, T: number, hooks: HookRunner, kv?: KvContext): tf.Tensor {
    const c = this.config;
    const a = `blocks.${i}.attn`;
    const proj = (name: 'Q' | 'K' | 'V', heads: number) =>
      hooks.run(`${a}.hook_${name.toLowerCase()}`, reshapeKeepingNothing(this.dense(h, `${a}.W_${name}`, `${a}.b_${name}`, B, T), [B, T, heads, c.dHead]), i) as tf.Tensor4D;
    let q = proj('Q', c.nHeads); // [B, T, H, dh]
    let k = proj('K', c.nKvHeads); // [B, T, KV, dh]
    const v = proj('V', c.nKvHeads);
    if (c.qkNorm) {
      q = rmsNorm(q, this.param(`${a}.q_norm.w`) as tf.Tensor1D, c.normEps) as tf.Tensor4D;
      k = rmsNorm(k, this.param(`${a}.k_norm.w`) as tf.Tensor1D, c.normEps) as tf.Tensor4D;
    }
    q = hooks.run(`${a}.hook_rot_q`, applyRope(q, cos, sin), i) as tf.Tensor4D;
    k = hooks.run(`${a}.hook_rot_k`, applyRope(k, cos, sin), i) as tf.Tensor4D;
    const z = attendHeads(q, k, v, mask, 1 / Math.sqrt(c.dHead), hooks, `${a}.hook_pattern`, i, kv); // [B, T, H, dh]
    const zHooked = hooks.run(`${a}.hook_z`, z, i);
    return this.dense(zHooked, `${a}.W_O`, `${a}.b_O`, B, T); // [B, T, D]
  }

  private mlp(i: number, h: tf.Tensor, B: number, T: number, hooks: HookRunner): tf.Tensor {
    const m = `blocks.${i}.mlp`;
    if (this.config.mlp === 'swiglu') {
      const gate = hooks.run(`${m}.hook_pre`, this.dense(h, `${m}.W_gate`, undefined, B, T), i); // [B, T, M]
      const up = hooks.run(`${m}.hook_pre_linear`, this.dense(h, `${m}.W_in`, undefined, B, T), i);
      const post = hooks.run(`${m}.hook_post`, swiglu(gate, up), i);
      return this.dense(post, `${m}.W_out`, undefined, B, T);
    }
    const pre = hooks.run(`${m}.hook_pre`, this.dense(h, `${m}.W_in`, `${m}.b_in`, B, T), i);
    const post = hooks.run(`${m}.hook_post`, geluExact(pre), i);
    return this.dense(post, `${m}.W_out`, `${m}.b_out`, B, T);
  }
}

/** [T, T]: 0 on and below the diagonal, −1e9 above. */
function causalMask(T: number): tf.Tensor2D {
  return tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9) as tf.Tensor2D;
}
