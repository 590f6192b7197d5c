/**
 * A decoder of any family in config.ts, built from the shared pieces in layers.ts, with
 * TransformerLens hook points (through hooks.ts's HookRunner) and parameters by path
 * (names.ts). Not yet the HookedTransformer the trainer and tools use: that needs the
 * model interface of issue 12/13; this class is the numerics it will be built from.
 *
 * Hook points per block i (shapes): hook_resid_pre [B,T,D]; attn.hook_q [B,T,H,dh],
 * attn.hook_k|v [B,T,KV,dh] (one per key/value head under GQA), attn.hook_rot_q|rot_k after
 * RoPE, attn.hook_pattern [B,H,T,T], attn.hook_z [B,T,H,dh]; hook_attn_out; hook_resid_mid
 * (sequential residual only); mlp.hook_pre (gate or W_in pre-activation), mlp.hook_pre_linear
 * (SwiGLU's up projection), mlp.hook_post [B,T,M]; hook_mlp_out; hook_resid_post.
 */
import * as tf from '@tensorflow/tfjs';
import { attention, bmm, layerNorm, linear } from '../../backend/ops.ts';
import { BonsaiError } from '../../errors.ts';
import { checkHookNames, HookRunner, type ActivationCache, type ForwardOptions } from '../hooks.ts';
import type { DecoderConfig } from './config.ts';
import { applyRope, geluExact, repeatKv, rmsNorm, ropeInvFreq, ropeTables, swiglu } from './layers.ts';

let nextId = 0;

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

export class FamilyDecoder {
  readonly params: Map<string, tf.Variable>;
  private readonly invFreq: Float32Array;
  private readonly hookPointNames: string[];

  /** Values by path (names.ts's hfToBonsai gives them from a checkpoint). */
  constructor(
    readonly config: DecoderConfig,
    values: Map<string, Float32Array>,
    shapes: Map<string, number[]>,
  ) {
    const id = nextId++;
    this.params = new Map();
    for (const [path, shape] of shapes) {
      const data = values.get(path);
      if (!data) throw new Error(`internal: no value for parameter ${path}`);
      const init = tf.tensor(data, shape, 'float32');
      this.params.set(path, tf.variable(init, true, `family${id}/${path}`));
      init.dispose(); // the variable holds its own copy
    }
    this.invFreq = ropeInvFreq(config);
    this.hookPointNames = familyHookNames(config);
  }

  hookPoints(): string[] {
    return [...this.hookPointNames];
  }

  /** ids: [B, T] int32, T ≤ nCtx → logits [B, T, V] and the requested cache. */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): { logits: tf.Tensor3D; cache: ActivationCache } {
    const [B, T] = ids.shape;
    if (T > this.config.nCtx) throw new BonsaiError(`sequence length ${T} exceeds the model's context of ${this.config.nCtx} tokens`);
    checkHookNames(opts, this.hookPointNames);
    const hooks = new HookRunner(opts);
    const logits = tf.tidy(() => this.forwardInner(ids, B, T, hooks));
    return { logits, cache: hooks.cache };
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }

  private p(path: string): tf.Variable {
    return this.params.get(path)!;
  }

  private has(path: string): boolean {
    return this.params.has(path);
  }

  private forwardInner(ids: tf.Tensor2D, B: number, T: number, hooks: HookRunner): tf.Tensor3D {
    const c = this.config;
    const { cos, sin } = ropeTables(this.invFreq, T); // [T, rotaryDim] each
    const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9) as tf.Tensor2D; // [T, T]
    let x = hooks.run('hook_embed', tf.gather(this.p('embed.W_E'), ids)); // [B, T, D]
    for (let i = 0; i < c.nLayers; i++) {
      const b = `blocks.${i}`;
      x = hooks.run(`${b}.hook_resid_pre`, x, i);
      const attnOut = hooks.run(`${b}.hook_attn_out`, this.attention(i, this.norm(x, `${b}.ln1`), cos, sin, mask, B, T, hooks), i);
      if (c.parallelResidual) {
        const mlpOut = hooks.run(`${b}.hook_mlp_out`, this.mlp(i, this.norm(x, `${b}.ln2`), B, T, hooks), i);
        x = tf.add(tf.add(x, attnOut), mlpOut);
      } else {
        x = hooks.run(`${b}.hook_resid_mid`, tf.add(x, attnOut), i);
        x = tf.add(x, hooks.run(`${b}.hook_mlp_out`, this.mlp(i, this.norm(x, `${b}.ln2`), B, T, hooks), i));
      }
      x = hooks.run(`${b}.hook_resid_post`, x, i);
    }
    const xf = hooks.run('ln_final.hook_normalized', this.norm(x, 'ln_final')); // [B, T, D]
    const flat = tf.reshape(xf, [B * T, c.dModel]) as tf.Tensor2D;
    const W_U = c.tiedEmbeddings ? (tf.transpose(this.p('embed.W_E')) as tf.Tensor2D) : (this.p('unembed.W_U') as tf.Tensor2D); // [D, V]
    return tf.reshape(linear(flat, W_U), [B, T, c.vocabSize]) as tf.Tensor3D;
  }

  private norm(x: tf.Tensor, prefix: string): tf.Tensor {
    const w = this.p(`${prefix}.w`) as tf.Tensor1D;
    if (this.config.norm === 'rms') return rmsNorm(x, w, this.config.normEps);
    return layerNorm(x, w, this.p(`${prefix}.b`) as tf.Tensor1D, this.config.normEps);
  }

  /** [B, T, in] · W (+ b) → [B, T, out]. */
  private dense(x: tf.Tensor, W: string, bias: string | undefined, B: number, T: number): tf.Tensor {
    const w = this.p(W) as tf.Tensor2D;
    const b = bias && this.has(bias) ? (this.p(bias) as tf.Tensor1D) : undefined;
    return tf.reshape(linear(tf.reshape(x, [B * T, w.shape[0]]) as tf.Tensor2D, w, b), [B, T, w.shape[1]]);
  }

  private attention(i: number, h: tf.Tensor, cos: tf.Tensor2D, sin: tf.Tensor2D, mask: tf.Tensor2D, B: number, T: number, hooks: HookRunner): tf.Tensor {
    const c = this.config;
    const a = `blocks.${i}.attn`;
    const proj = (name: 'Q' | 'K' | 'V', heads: number) =>
      hooks.run(`${a}.hook_${name.toLowerCase()}`, tf.reshape(this.dense(h, `${a}.W_${name}`, `${a}.b_${name}`, B, T), [B, T, heads, c.dHead]), i) as tf.Tensor4D;
    let q = proj('Q', c.nHeads); // [B, T, H, dh]
    let k = proj('K', c.nKvHeads); // [B, T, KV, dh]
    const v = proj('V', c.nKvHeads);
    if (c.qkNorm) {
      q = rmsNorm(q, this.p(`${a}.q_norm.w`) as tf.Tensor1D, c.normEps) as tf.Tensor4D;
      k = rmsNorm(k, this.p(`${a}.k_norm.w`) as tf.Tensor1D, c.normEps) as tf.Tensor4D;
    }
    q = hooks.run(`${a}.hook_rot_q`, applyRope(q, cos, sin), i) as tf.Tensor4D;
    k = hooks.run(`${a}.hook_rot_k`, applyRope(k, cos, sin), i) as tf.Tensor4D;
    const nRep = c.nHeads / c.nKvHeads;
    const [kFull, vFull] = [repeatKv(k, nRep), repeatKv(v, nRep)]; // [B, T, H, dh]
    const scale = 1 / Math.sqrt(c.dHead);
    const z = hooks.wants(`${a}.hook_pattern`)
      ? this.explicitAttention(q, kFull, vFull, mask, scale, `${a}.hook_pattern`, i, hooks)
      : attention(q, kFull, vFull, mask, scale); // [B, T, H, dh]
    const zHooked = hooks.run(`${a}.hook_z`, z, i);
    return this.dense(zHooked, `${a}.W_O`, `${a}.b_O`, B, T); // [B, T, D]
  }

  private explicitAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number, hook: string, i: number, hooks: HookRunner): tf.Tensor4D {
    const [B, T, H, dh] = q.shape;
    const toBatched = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B * H, T, dh]);
    const scores = tf.add(tf.mul(bmm(toBatched(q), toBatched(k), true), scale), mask); // [B·H, T, T]
    const pattern = hooks.run(hook, tf.reshape(tf.softmax(scores), [B, H, T, T]), i);
    const z = tf.reshape(bmm(tf.reshape(pattern, [B * H, T, T]), toBatched(v)), [B, H, T, dh]);
    return tf.transpose(z, [0, 2, 1, 3]) as tf.Tensor4D;
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
