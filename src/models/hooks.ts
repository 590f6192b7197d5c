import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { KVCache } from './kv-cache.ts';

/**
 * Hook points, TransformerLens-named. Two ways to use them, both scoped to one forward
 * call (never global state, per TransformerLens's own warning):
 *  - cache: return the named activations, kept alive past tidy; the caller disposes them.
 *  - edit:  a differentiable function applied inside the forward pass, so ablation and
 *           steering work under training.
 *
 * Shapes: hook_embed, hook_pos_embed, hook_resid_*, hook_attn_out, hook_mlp_out,
 * ln_final.hook_normalized: [B, T, D]; attn.hook_q|k|v|z: [B, T, H, dh];
 * attn.hook_pattern: [B, H, Tq, Tk]; mlp.hook_pre|hook_post: [B, T, M].
 */
export type HookFn = (activation: tf.Tensor, ctx: HookContext) => tf.Tensor;

export interface HookContext {
  /** The hook point's full name, e.g. `blocks.1.attn.hook_z`. */
  name: string;
  /** The block index, for hooks inside a block. */
  layer?: number;
}

/** Selects hook points by exact name, RegExp or predicate. */
export type HookSelector = string | RegExp | ((name: string) => boolean);

export interface ForwardOptions {
  /** Edits applied in order at matching hook points. */
  hooks?: Array<{ at: HookSelector; fn: HookFn }>;
  /** Hook points whose activations to return in the cache. */
  cache?: HookSelector | HookSelector[];
  /**
   * Recompute each block's activations in the backward pass instead of keeping them
   * (gradient checkpointing): activation memory of one block instead of all, for about
   * one more forward pass of compute. Blocks with a hook or cached activation run plainly.
   */
  recompute?: boolean;
  /**
   * Incremental decoding (kv-cache.ts): the ids are new tokens appended to what this key/value
   * cache holds; hooks then see only the new tokens ([B, Tq, …]; attn.hook_pattern
   * [B, H, Tq, S + Tq] over every cached slot, padding slots at −1e9 before the softmax).
   */
  kv?: KVCache;
  /** With `kv`: real new tokens per row (the ids are right-padded); default all of them. */
  kvLengths?: number[];
}

export { hookNames } from './layout.ts';

function matches(sel: HookSelector, name: string): boolean {
  if (typeof sel === 'string') return sel === name;
  if (sel instanceof RegExp) return sel.test(name);
  return sel(name);
}

/**
 * Checks that every string selector names a real hook point, so a typo is an error
 * listing the valid names rather than a hook that silently never runs.
 */
export function checkHookNames(opts: ForwardOptions, valid: string[]): void {
  const sels = [...(opts.hooks ?? []).map((h) => h.at), ...[opts.cache ?? []].flat()];
  const set = new Set(valid);
  for (const s of sels) {
    if (typeof s === 'string' && !set.has(s)) {
      throw new BonsaiError(`unknown hook point "${s}"; valid hook points: ${valid.join(', ')}`);
    }
  }
}

/** Activations captured by a forward pass. Tensors are kept; call dispose() when done. */
export class ActivationCache {
  private readonly acts = new Map<string, tf.Tensor>();

  /** @internal */
  set(name: string, t: tf.Tensor): void {
    this.acts.get(name)?.dispose();
    // Its own handle on the same data (a clone copies nothing): the forward may also return
    // the tensor (forwardHidden's hidden IS ln_final.hook_normalized), and a caller that
    // disposes what the forward returned must not free what the cache holds.
    this.acts.set(name, tf.keep(t.clone()));
  }

  get(name: string): tf.Tensor {
    const t = this.acts.get(name);
    if (!t) throw new BonsaiError(`activation "${name}" was not cached; cached: ${[...this.acts.keys()].join(', ') || '(none)'}`);
    return t;
  }

  has(name: string): boolean {
    return this.acts.has(name);
  }

  names(): string[] {
    return [...this.acts.keys()];
  }

  dispose(): void {
    for (const t of this.acts.values()) t.dispose();
    this.acts.clear();
  }
}

/**
 * The per-call hook runner the transformer threads through its forward pass: applies
 * matching edits, then caches (so the cache sees the edited activation, as in TL).
 */
export class HookRunner {
  readonly cache = new ActivationCache();
  private readonly cacheSels: HookSelector[];

  constructor(private readonly opts: ForwardOptions = {}) {
    this.cacheSels = [opts.cache ?? []].flat();
  }

  /** True when nothing is hooked or cached: the forward pass can skip the bookkeeping. */
  get idle(): boolean {
    return !this.opts.hooks?.length && this.cacheSels.length === 0;
  }

  /** True when an edit or the cache selects this hook point. */
  wants(name: string): boolean {
    return (this.opts.hooks ?? []).some((h) => matches(h.at, name)) || this.cacheSels.some((s) => matches(s, name));
  }

  run(name: string, act: tf.Tensor, layer?: number): tf.Tensor {
    let out = act;
    for (const h of this.opts.hooks ?? []) {
      if (matches(h.at, name)) out = h.fn(out, { name, layer });
    }
    if (this.cacheSels.some((s) => matches(s, name))) this.cache.set(name, out);
    return out;
  }
}
