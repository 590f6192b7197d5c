/**
 * The one decoder every family runs on, built from the shared pieces (layers.ts, the attention
 * core in attention.ts) as its config's flags say (families/family.ts): learned or rotary
 * positions, LayerNorm or RMSNorm before and/or after each sublayer, sequential or parallel
 * residual, plain or gated MLP, q/k norms, soft-capping, sliding windows. TransformerLens's
 * name, hook points and parameter paths (layout.ts). A CausalLM: every tool runs on it.
 *
 * Hook shapes per block i: hook_resid_pre [B,T,D]; attn.hook_q [B,T,H,dh], attn.hook_k|v
 * [B,T,KV,dh] (one per key/value head under GQA), attn.hook_rot_q|rot_k after RoPE,
 * attn.hook_pattern [B,H,T,T], attn.hook_z [B,T,H,dh]; attn.hook_out and mlp.hook_out (under
 * post-norms, the projection before its norm); hook_attn_out; hook_resid_mid (sequential
 * residual); mlp.hook_pre, mlp.hook_pre_linear (gated), mlp.hook_post [B,T,M]; hook_mlp_out;
 * hook_resid_post.
 */
import * as tf from '@tensorflow/tfjs';
import { linear, matMulNTWide } from '../backend/ops.ts';
import { recomputed } from '../backend/recompute.ts';
import { attendHeads, type KvContext } from './attention.ts';
import { HookedModel } from './base-model.ts';
import type { ForwardOptions, HookRunner } from './hooks.ts';
import { activation, applyRope, normalize, ropeInvFreq, ropeTables, ropeTablesAt, softcap } from './layers.ts';
import { asLMConfig, type Gpt2ConfigInput, type LMConfig } from './lm-config.ts';
import { initialValues, type ParamValues } from './params.ts';

export type { ForwardResult, HiddenResult } from './model.ts';

/** What block i attends with: its RoPE angles, its mask (causal, or a sliding window's), and the window. */
interface LayerInputs {
  rope?: { cos: tf.Tensor; sin: tf.Tensor };
  mask: tf.Tensor2D;
  window?: number;
}

export class HookedTransformer extends HookedModel<LMConfig> {
  /** RoPE inverse frequencies of full-attention layers, and of sliding ones when they differ. */
  private readonly invFreq?: Float32Array;
  private readonly localInvFreq?: Float32Array;

  /** Values by path, each read once (families/load.ts gives them from a checkpoint as they are asked for; layout.ts lists the paths). */
  constructor(config: LMConfig | Gpt2ConfigInput, values: ParamValues, frozen = false) {
    const c = asLMConfig(config);
    super(c, values, frozen);
    this.invFreq = c.rope && ropeInvFreq(c.rope);
    this.localInvFreq = c.localRope && ropeInvFreq(c.localRope);
  }

  /** A freshly initialised model; the same seed gives the same weights on every backend. */
  static create(config: LMConfig | Gpt2ConfigInput, seed: number): HookedTransformer {
    const c = asLMConfig(config);
    return new HookedTransformer(c, initialValues(c, seed));
  }

  /** A model from parameter values by path (e.g. a checkpoint). Every path must be present. */
  static fromValues(config: LMConfig | Gpt2ConfigInput, values: ParamValues): HookedTransformer {
    return new HookedTransformer(config, values);
  }

  /** A frozen copy (see CausalLM.frozenCopy), typed as this class. */
  override frozenCopy(): HookedTransformer {
    return super.frozenCopy() as HookedTransformer;
  }

  protected override rebuild(values: Map<string, Float32Array>, frozen: boolean): HookedTransformer {
    return new HookedTransformer(this.config, values, frozen);
  }

  protected override hiddenInner(ids: tf.Tensor2D, B: number, T: number, hooks: HookRunner, kv?: KvContext, opts: ForwardOptions = {}): tf.Tensor3D {
    const c = this.config;
    const inputs = this.layerInputs(T, B, kv);
    const tokens = tf.gather(this.param('embed.W_E'), ids); // [B, T, D]
    let x = hooks.run('hook_embed', c.embedScale === 1 ? tokens : tf.mul(tokens, c.embedScale));
    if (c.positions === 'learned') {
      // Learned positions: 0…T−1 ([1, T, D]), or under the cache each row's own ([B, T, D]).
      const W_pos = this.param('pos_embed.W_pos');
      x = tf.add(x, hooks.run('hook_pos_embed', kv ? tf.gather(W_pos, kv.step.positions) : tf.slice(W_pos, [0, 0], [T, c.dModel]).expandDims(0)));
    }
    for (let i = 0; i < c.nLayers; i++) {
      // Recomputation (memory.recompute) keeps only the block's input for the backward pass and
      // rebuilds the RoPE tables and masks inside the block (the forward's die before the
      // backward); a hooked block, or a cached decoding pass, runs plainly.
      x = opts.recompute && !kv && !this.blockHooked(i, hooks)
        ? recomputed((h) => this.block(i, h, this.layerInputs(h.shape[1]!, B)(i), hooks), x)
        : this.block(i, x, inputs(i), hooks, kv);
    }
    return hooks.run('ln_final.hook_normalized', this.norm(x, 'ln_final')) as tf.Tensor3D; // [B, T, D]
  }

  /**
   * Block i's inputs for T positions (under the cache: the step's own positions and masks).
   * Each kind of table is built once per forward and shared by the layers that use it.
   */
  private layerInputs(T: number, B: number, kv?: KvContext): (i: number) => LayerInputs {
    const c = this.config;
    const tables = new Map<Float32Array, { cos: tf.Tensor; sin: tf.Tensor }>();
    const rope = (inv: Float32Array) => {
      if (!tables.has(inv)) tables.set(inv, kv ? ropeTablesAt(inv, kv.step.positionsJs, B, T) : ropeTables(inv, T));
      return tables.get(inv)!;
    };
    const masks = new Map<number, tf.Tensor2D>();
    const mask = (window: number) => {
      if (!masks.has(window)) masks.set(window, kv ? kv.step.mask : causalMask(T, window));
      return masks.get(window)!;
    };
    return (i) => {
      const window = c.window?.layers[i] ? c.window.size : undefined;
      const inv = window !== undefined && this.localInvFreq ? this.localInvFreq : this.invFreq;
      return { rope: inv && rope(inv), mask: mask(window ?? Infinity), window };
    };
  }

  /** Block i on the residual stream x: [B, T, D] → [B, T, D]. */
  private block(i: number, x: tf.Tensor, at: LayerInputs, hooks: HookRunner, kv?: KvContext): tf.Tensor {
    const [B, T] = x.shape as [number, number, number];
    const c = this.config;
    const b = `blocks.${i}`;
    const [pre, post] = [c.normPlacement !== 'post', c.normPlacement !== 'pre'];
    x = hooks.run(`${b}.hook_resid_pre`, x, i);
    let attn = this.attention(i, pre ? this.norm(x, `${b}.ln1`) : x, at, B, T, hooks, kv);
    if (post) attn = this.norm(hooks.run(`${b}.attn.hook_out`, attn, i), `${b}.ln1_post`);
    const attnOut = hooks.run(`${b}.hook_attn_out`, attn, i);
    const mlpOut = (h: tf.Tensor) => {
      let m = this.mlp(i, pre ? this.norm(h, `${b}.ln2`) : h, B, T, hooks);
      if (post) m = this.norm(hooks.run(`${b}.mlp.hook_out`, m, i), `${b}.ln2_post`);
      return hooks.run(`${b}.hook_mlp_out`, m, i);
    };
    if (c.parallelResidual) x = tf.add(tf.add(x, attnOut), mlpOut(x));
    else {
      x = hooks.run(`${b}.hook_resid_mid`, tf.add(x, attnOut), i);
      x = tf.add(x, mlpOut(x));
    }
    return hooks.run(`${b}.hook_resid_post`, x, i);
  }

  protected override unembedInner(flat: tf.Tensor2D, decoding = false): tf.Tensor2D {
    const c = this.config;
    let logits: tf.Tensor2D; // [N, V]
    if (decoding && c.tiedEmbeddings) logits = matMulNTWide(flat, this.param('embed.W_E') as tf.Tensor2D);
    else if (c.tiedEmbeddings) logits = linear(flat, tf.transpose(this.param('embed.W_E')) as tf.Tensor2D);
    else logits = linear(flat, this.param('unembed.W_U') as tf.Tensor2D, this.optionalParam('unembed.b_U'));
    return c.finalSoftcap === undefined ? logits : (softcap(logits, c.finalSoftcap) as tf.Tensor2D);
  }

  /** The config's norm with the weights under `prefix` (`.w`, and `.b` for LayerNorm). */
  private norm(x: tf.Tensor, prefix: string): tf.Tensor {
    return normalize(this.config, x, this.param(`${prefix}.w`) as tf.Tensor1D, this.optionalParam(`${prefix}.b`));
  }

  private optionalParam(path: string): tf.Tensor1D | undefined {
    return this.hasParam(path) ? (this.param(path) as tf.Tensor1D) : undefined;
  }

  /** [B, T, in] · W (+ b) → [B, T, out], through the 2-D product the backend makes fast. */
  private dense(x: tf.Tensor, W: string, bias: string | undefined, B: number, T: number): tf.Tensor {
    const w = this.param(W) as tf.Tensor2D;
    const b = bias === undefined ? undefined : this.optionalParam(bias);
    return tf.reshape(linear(tf.reshape(x, [B * T, w.shape[0]]) as tf.Tensor2D, w, b), [B, T, w.shape[1]]);
  }

  private attention(i: number, h: tf.Tensor, at: LayerInputs, B: number, T: number, hooks: HookRunner, kv?: KvContext): tf.Tensor {
    const c = this.config;
    const a = `blocks.${i}.attn`;
    const proj = (name: 'Q' | 'K' | 'V', heads: number) =>
      hooks.run(`${a}.hook_${name.toLowerCase()}`, tf.reshape(this.dense(h, `${a}.W_${name}`, `${a}.b_${name}`, B, T), [B, T, heads, c.dHead]), i) as tf.Tensor4D;
    let q = proj('Q', c.nHeads); // [B, T, H, dh]
    let k = proj('K', c.nKvHeads); // [B, T, KV, dh]
    const v = proj('V', c.nKvHeads);
    if (c.qkNorm !== 'none') [q, k] = [this.qkNorm(q, `${a}.q_norm`), this.qkNorm(k, `${a}.k_norm`)];
    if (at.rope) {
      q = hooks.run(`${a}.hook_rot_q`, applyRope(q, at.rope.cos, at.rope.sin), i) as tf.Tensor4D;
      k = hooks.run(`${a}.hook_rot_k`, applyRope(k, at.rope.cos, at.rope.sin), i) as tf.Tensor4D;
    }
    const z = attendHeads(q, k, v, at.mask, c.attnScale, hooks, `${a}.hook_pattern`, i, kv, { softcap: c.attnSoftcap, window: at.window }); // [B, T, H, dh]
    return this.dense(hooks.run(`${a}.hook_z`, z, i), `${a}.W_O`, `${a}.b_O`, B, T); // [B, T, D]
  }

  /** q or k [B, T, heads, dh] normed per head (Qwen3, Gemma 3) or over the whole projection (OLMo 2). */
  private qkNorm(x: tf.Tensor4D, prefix: string): tf.Tensor4D {
    if (this.config.qkNorm === 'head') return this.norm(x, prefix) as tf.Tensor4D;
    const [B, T, heads, dh] = x.shape;
    return tf.reshape(this.norm(tf.reshape(x, [B, T, heads * dh]), prefix), [B, T, heads, dh]);
  }

  private mlp(i: number, h: tf.Tensor, B: number, T: number, hooks: HookRunner): tf.Tensor {
    const { mlp } = this.config;
    const m = `blocks.${i}.mlp`;
    let post: tf.Tensor; // [B, T, M]
    if (mlp.gated) {
      const gate = hooks.run(`${m}.hook_pre`, this.dense(h, `${m}.W_gate`, undefined, B, T), i);
      const up = hooks.run(`${m}.hook_pre_linear`, this.dense(h, `${m}.W_in`, `${m}.b_in`, B, T), i);
      post = hooks.run(`${m}.hook_post`, tf.mul(activation(gate, mlp.act), up), i);
    } else {
      const pre = hooks.run(`${m}.hook_pre`, this.dense(h, `${m}.W_in`, `${m}.b_in`, B, T), i);
      post = hooks.run(`${m}.hook_post`, activation(pre, mlp.act), i);
    }
    return this.dense(post, `${m}.W_out`, `${m}.b_out`, B, T); // [B, T, D]
  }
}

/** [T, T]: 0 where query i may see key j (j ≤ i, and i − j < window), −1e9 elsewhere. */
function causalMask(T: number, window = Infinity): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), Math.min(T, window) - 1, 0)), -1e9) as tf.Tensor2D);
}
