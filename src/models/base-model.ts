/**
 * What every CausalLM class shares: variables by path, frozen copies and fingerprints, the
 * forward entry points (length and hook-name checks, one tidy per call), and `param(path)`,
 * the single accessor a family's forward reads weights through so `weightTransform` (LoRA)
 * applies to every family at once. A family supplies only its body (`hiddenInner`) and its
 * output head (`unembedInner`).
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { fingerprintOf } from './fingerprint.ts';
import type { KvContext } from './attention.ts';
import { checkHookNames, HookRunner, type ForwardOptions } from './hooks.ts';
import { hookNames } from './layout.ts';
import type { LMConfig } from './lm-config.ts';
import type { CausalLM, ForwardResult, HiddenResult, WeightTransform } from './model.ts';
import { makeVariables, type ParamValues } from './params.ts';

let nextModelId = 0;

export abstract class HookedModel<C extends LMConfig = LMConfig> implements CausalLM {
  readonly config: C;
  /** Parameters by path (layout.ts lists them with their shapes). */
  readonly params: Map<string, tf.Variable>;
  readonly frozen: boolean;
  weightTransform?: WeightTransform;
  private readonly hookPointNames: string[];
  /** Set by frozenCopy: a frozen model's weights never change, so hash them once. */
  protected frozenFingerprint?: string;

  protected constructor(config: C, values: ParamValues, frozen: boolean) {
    this.config = config;
    this.frozen = frozen;
    const id = nextModelId++;
    this.params = makeVariables(config, values, !frozen, `${frozen ? 'frozen' : 'model'}${id}`);
    this.hookPointNames = hookNames(config);
  }

  /** The weights of a frozen copy: the same class over the same config and these values. */
  protected abstract rebuild(values: Map<string, Float32Array>, frozen: boolean): HookedModel<C>;

  /**
   * The body: embeddings, blocks, final norm (ln_final.hook_normalized run) → [B, T, D]. Called
   * inside a tidy. With `kv`, the ids are new tokens at `kv.step.positions` and every block's
   * attention goes through `attendHeads(…, kv)`, which extends the cache. `opts` carries
   * `recompute` (memory.recompute) to the block loop.
   */
  protected abstract hiddenInner(ids: tf.Tensor2D, B: number, T: number, hooks: HookRunner, kv?: KvContext, opts?: ForwardOptions): tf.Tensor3D;

  /**
   * The output head: [N, D] → [N, V]. Called inside a tidy. `decoding`: a generation step's few
   * rows, not differentiated (a tied head may then multiply without transposing the embedding).
   */
  protected abstract unembedInner(flat: tf.Tensor2D, decoding?: boolean): tf.Tensor2D;

  hookPoints(): string[] {
    return [...this.hookPointNames];
  }

  frozenCopy(): CausalLM {
    const copy = this.rebuild(this.valuesSync(), true);
    copy.frozenFingerprint = fingerprintOf(copy.valuesSync());
    return copy;
  }

  fingerprint(): string {
    return this.frozenFingerprint ?? fingerprintOf(this.valuesSync());
  }

  valuesSync(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [path, v] of this.params) out.set(path, v.dataSync() as Float32Array);
    return out;
  }

  numParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardResult {
    const [B, T] = this.checkInput(ids, opts);
    const hooks = new HookRunner(opts);
    const logits = tf.tidy(() => {
      const xf = this.hiddenInner(ids, B, T, hooks, this.kvContext(B, T, opts), opts); // [B, T, D]
      const flat = tf.reshape(xf, [B * T, this.config.dModel]) as tf.Tensor2D;
      return tf.reshape(this.unembedInner(flat), [B, T, this.config.vocabSize]) as tf.Tensor3D;
    });
    opts.kv?.commit();
    return { logits, cache: hooks.cache };
  }

  forwardHidden(ids: tf.Tensor2D, opts: ForwardOptions = {}): HiddenResult {
    const [B, T] = this.checkInput(ids, opts);
    const hooks = new HookRunner(opts);
    const hidden = tf.tidy(() => this.hiddenInner(ids, B, T, hooks, this.kvContext(B, T, opts), opts));
    opts.kv?.commit();
    return { hidden, cache: hooks.cache };
  }

  unembed(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.unembedInner(hidden));
  }

  decodeLogits(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.unembedInner(hidden, true));
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }

  /** A parameter as the forward pass reads it: through `weightTransform` when one is set. */
  protected param(path: string): tf.Tensor {
    const v = this.params.get(path);
    if (!v) throw new Error(`internal: no parameter ${path}`);
    return this.weightTransform ? this.weightTransform(path, v) : v;
  }

  /** Whether a hook or cached activation reads inside block i (such a block never recomputes). */
  protected blockHooked(i: number, hooks: HookRunner): boolean {
    const prefix = `blocks.${i}.`;
    return !hooks.idle && this.hookPointNames.some((n) => n.startsWith(prefix) && hooks.wants(n));
  }

  protected hasParam(path: string): boolean {
    return this.params.has(path);
  }

  /** The cache context of a forward against `opts.kv` (positions and mask are built inside the forward's tidy). */
  private kvContext(B: number, T: number, opts: ForwardOptions): KvContext | undefined {
    return opts.kv ? { cache: opts.kv, step: opts.kv.begin(B, T, opts.kvLengths) } : undefined;
  }

  private checkInput(ids: tf.Tensor2D, opts: ForwardOptions): [number, number] {
    const [B, T] = ids.shape;
    if (T > this.config.nCtx) {
      throw new BonsaiError(`sequence length ${T} exceeds the model's context of ${this.config.nCtx} tokens`);
    }
    checkHookNames(opts, this.hookPointNames);
    return [B, T];
  }
}
