import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { attention, bmm, gelu, layerNorm, linear } from '../backend/ops.ts';
import { dHead, validateModelConfig, type ModelConfig } from './config.ts';
import { checkHookNames, hookNames, HookRunner, type ActivationCache, type ForwardOptions } from './hooks.ts';
import { initialValues, makeVariables } from './params.ts';
import { fingerprintOf } from './fingerprint.ts';

let nextModelId = 0;

export interface ForwardResult {
  logits: tf.Tensor3D; // [B, T, V]
  /** Activations requested with `cache`; the caller disposes it. */
  cache: ActivationCache;
}

/**
 * A GPT-2-style decoder (pre-LayerNorm, learned positions, GELU MLP, tied or untied
 * unembedding) with TransformerLens hook points and parameters named by path.
 */
export class HookedTransformer {
  readonly config: ModelConfig;
  /** Parameters by path (`blocks.0.attn.W_Q`, …). See params.ts for layouts. */
  readonly params: Map<string, tf.Variable>;
  /** True for a frozen copy: no variable is trainable and optimizers refuse it. */
  readonly frozen: boolean;
  private readonly causalMask: tf.Tensor2D; // [nCtx, nCtx], 0 on/below diagonal, -1e9 above
  private readonly hookPointNames: string[];
  private frozenFingerprint?: string;
  /**
   * When set, every parameter read inside `forward` goes through it: the returned tensor
   * (created inside the forward's tidy) is used in place of the variable. LoRA sets it to
   * `W + scale·ΔW` on its targets. Unset: the variables themselves, at no cost.
   * `valuesSync()` and `fingerprint()` always read the variables (the base weights).
   */
  weightTransform?: (path: string, w: tf.Variable) => tf.Tensor;

  private constructor(config: ModelConfig, values: Map<string, Float32Array>, frozen: boolean) {
    validateModelConfig(config);
    this.config = config;
    this.frozen = frozen;
    const id = nextModelId++;
    this.params = makeVariables(config, values, !frozen, `${frozen ? 'frozen' : 'model'}${id}`);
    this.hookPointNames = hookNames(config);
    this.causalMask = tf.tidy(() => {
      const n = config.nCtx;
      const lower = tf.linalg.bandPart(tf.ones([n, n]), -1, 0);
      return tf.mul(tf.sub(1, lower), -1e9) as tf.Tensor2D;
    });
  }

  /** A freshly initialised model; the same seed gives the same weights on every backend. */
  static create(config: ModelConfig, seed: number): HookedTransformer {
    return new HookedTransformer(config, initialValues(config, seed), false);
  }

  /** A model from parameter values by path (e.g. a checkpoint). Every path must be present. */
  static fromValues(config: ModelConfig, values: Map<string, Float32Array>): HookedTransformer {
    return new HookedTransformer(config, values, false);
  }

  /** Every hook point name, in forward order. */
  hookPoints(): string[] {
    return [...this.hookPointNames];
  }

  /**
   * A frozen copy: its own variables (later training of this model never touches it),
   * never trainable, with a fingerprint of its weights that probes record and check.
   */
  frozenCopy(): HookedTransformer {
    const copy = new HookedTransformer(this.config, this.valuesSync(), true);
    copy.frozenFingerprint = fingerprintOf(copy.valuesSync());
    return copy;
  }

  /** Hash of the weights (sha256 over paths, shapes and bytes). Cached for frozen copies. */
  fingerprint(): string {
    return this.frozenFingerprint ?? fingerprintOf(this.valuesSync());
  }

  /** Parameter values copied to JS, by path. */
  valuesSync(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [path, v] of this.params) out.set(path, v.dataSync() as Float32Array);
    return out;
  }

  /** Number of scalar parameters. */
  numParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /**
   * ids: [B, T] int32, T ≤ nCtx. Returns logits [B, T, V] and the requested cache.
   * Differentiable with respect to the parameters and through every hook edit.
   */
  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
    const [B, T] = ids.shape;
    if (T > this.config.nCtx) {
      throw new BonsaiError(`sequence length ${T} exceeds the model's context of ${this.config.nCtx} tokens`);
    }
    checkHookNames(opts, this.hookPointNames);
    const hooks = new HookRunner(opts);
    const logits = tf.tidy(() => this.forwardInner(ids, B, T, hooks));
    return { logits, cache: hooks.cache };
  }

  /** A parameter as the forward pass reads it: through `weightTransform` when one is set. */
  private p(path: string): tf.Tensor {
    const v = this.params.get(path)!;
    return this.weightTransform ? this.weightTransform(path, v) : v;
  }

  private forwardInner(ids: tf.Tensor2D, B: number, T: number, hooks: HookRunner): tf.Tensor3D {
    const { dModel: D, nLayers } = this.config;
    const embed = hooks.run('hook_embed', tf.gather(this.p('embed.W_E'), ids)); // [B, T, D]
    const pos = hooks.run('hook_pos_embed', tf.slice(this.p('pos_embed.W_pos'), [0, 0], [T, D]).expandDims(0)); // [1, T, D]
    let x = tf.add(embed, pos) as tf.Tensor; // [B, T, D]
    const mask = tf.slice(this.causalMask, [0, 0], [T, T]); // [T, T]
    for (let i = 0; i < nLayers; i++) {
      const b = `blocks.${i}`;
      x = hooks.run(`${b}.hook_resid_pre`, x, i);
      const attnOut = hooks.run(`${b}.hook_attn_out`, this.attention(i, this.layerNorm(x, `${b}.ln1`), mask, B, T, hooks), i);
      x = hooks.run(`${b}.hook_resid_mid`, tf.add(x, attnOut), i);
      const mlpOut = hooks.run(`${b}.hook_mlp_out`, this.mlp(i, this.layerNorm(x, `${b}.ln2`), B, T, hooks), i);
      x = hooks.run(`${b}.hook_resid_post`, tf.add(x, mlpOut), i);
    }
    const xf = hooks.run('ln_final.hook_normalized', this.layerNorm(x, 'ln_final')); // [B, T, D]
    const flat = tf.reshape(xf, [B * T, D]) as tf.Tensor2D;
    const logits = this.config.tiedEmbeddings
      ? linear(flat, tf.transpose(this.p('embed.W_E')) as tf.Tensor2D)
      : linear(flat, this.p('unembed.W_U') as tf.Tensor2D, this.p('unembed.b_U') as tf.Tensor1D);
    return tf.reshape(logits, [B, T, this.config.vocabSize]) as tf.Tensor3D;
  }

  private layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    return layerNorm(x, this.p(`${prefix}.w`) as tf.Tensor1D, this.p(`${prefix}.b`) as tf.Tensor1D, this.config.layerNormEps);
  }

  /** Linear layer on [B, T, in] through the 2-D product the backend makes fast. */
  private dense(x: tf.Tensor, W: string, bias: string, B: number, T: number): tf.Tensor {
    const w = this.p(W) as tf.Tensor2D;
    const y = linear(tf.reshape(x, [B * T, w.shape[0]]) as tf.Tensor2D, w, this.p(bias) as tf.Tensor1D); // [B·T, out]
    return tf.reshape(y, [B, T, w.shape[1]]);
  }

  private attention(i: number, h: tf.Tensor, mask: tf.Tensor, B: number, T: number, hooks: HookRunner): tf.Tensor {
    const a = `blocks.${i}.attn`;
    const H = this.config.nHeads;
    const dh = dHead(this.config);
    // [B, T, D] → [B, T, H, dh], hooked in TransformerLens's layout.
    const heads = (name: 'Q' | 'K' | 'V') =>
      hooks.run(`${a}.hook_${name.toLowerCase()}`, tf.reshape(this.dense(h, `${a}.W_${name}`, `${a}.b_${name}`, B, T), [B, T, H, dh]), i) as tf.Tensor4D;
    const [q, k, v] = [heads('Q'), heads('K'), heads('V')];
    const scale = 1 / Math.sqrt(dh);
    // The fused op never materialises the pattern as a hookable tensor: when a hook or the
    // cache wants it, take the explicit path (same math, slower).
    const z = hooks.wants(`${a}.hook_pattern`)
      ? this.explicitAttention(q, k, v, mask, scale, `${a}.hook_pattern`, i, hooks)
      : attention(q, k, v, mask as tf.Tensor2D, scale); // [B, T, H, dh]
    const zHooked = hooks.run(`${a}.hook_z`, z, i);
    return this.dense(zHooked, `${a}.W_O`, `${a}.b_O`, B, T); // [B, T, D]
  }

  private explicitAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor, scale: number, hook: string, i: number, hooks: HookRunner): tf.Tensor4D {
    const [B, T, H, dh] = q.shape;
    const toBatched = (t: tf.Tensor) => tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [B * H, T, dh]);
    const scores = tf.add(tf.mul(bmm(toBatched(q), toBatched(k), true), scale), mask); // [B·H, T, T]
    const pattern = hooks.run(hook, tf.reshape(tf.softmax(scores), [B, H, T, T]), i);
    const z = tf.reshape(bmm(tf.reshape(pattern, [B * H, T, T]), toBatched(v)), [B, H, T, dh]);
    return tf.transpose(z, [0, 2, 1, 3]) as tf.Tensor4D; // [B, T, H, dh]
  }

  private mlp(i: number, h: tf.Tensor, B: number, T: number, hooks: HookRunner): tf.Tensor {
    const m = `blocks.${i}.mlp`;
    const pre = hooks.run(`${m}.hook_pre`, this.dense(h, `${m}.W_in`, `${m}.b_in`, B, T), i); // [B, T, M]
    const post = hooks.run(`${m}.hook_post`, gelu(pre), i);
    return this.dense(post, `${m}.W_out`, `${m}.b_out`, B, T); // [B, T, D]
  }

  /** Frees every variable of this model. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.causalMask.dispose();
  }
}
