import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { GradientTransform, NamedGrads, TransformContext } from './transform.ts';
import { selectionCounts, type Selection } from './select.ts';

/** A check run before each update that may grow the Freezer (the freeze guard), and the top share frozen so far. */
export interface FreezeCheck {
  percent: number;
  beforeStep(step: number, freezer: Freezer, params: ReadonlyMap<string, tf.Variable>): void;
}

/** What the optimizer needs to hold one parameter's frozen entries fixed. */
export interface FrozenMask {
  /** Every entry frozen: the optimizer skips the tensor (no moments, no decay). */
  all: boolean;
  /** Where only some entries are frozen: true at frozen entries. Shape of the parameter. */
  frozen?: tf.Tensor;
  /** 1 where the entry trains, 0 where frozen (float32), for masking gradients. */
  keep?: tf.Tensor;
}

/**
 * Circuit freezing: frozen entries are held bit-identical. The mask acts twice on purpose —
 * on the gradients (so clipping and projections never see frozen entries) and inside AdamW
 * (so weight decay and the moments cannot move them either) — and one call, `install`,
 * puts it in both places. A snapshot taken at construction lets the run check the promise.
 */
export class Freezer {
  readonly masks = new Map<string, FrozenMask>();
  counts: ReturnType<typeof selectionCounts>;
  private readonly snapshot = new Map<string, { flags: Uint8Array; values: Float32Array }>();
  private readonly selection: Selection = new Map();
  /** With attribution's `guard`: checked before each update, it may grow the mask (FreezeGuard in freeze-guard.ts). */
  guard?: FreezeCheck;

  constructor(params: ReadonlyMap<string, tf.Variable>, sel: Selection) {
    for (const [path, flags] of sel) this.mask(params, path, flags.slice());
    if (this.masks.size === 0) throw new BonsaiError('freeze: the selectors select no parameter entries');
    this.counts = selectionCounts(this.selection);
  }

  /** Masks `flags` of parameter `path` at its current values (replacing any mask it had). */
  private mask(params: ReadonlyMap<string, tf.Variable>, path: string, flags: Uint8Array): void {
    const p = params.get(path);
    if (!p) throw new BonsaiError(`freeze: no parameter "${path}"`);
    if (flags.length !== p.size) throw new Error(`internal: freeze mask for ${path} has ${flags.length} entries, parameter ${p.size}`);
    let n = 0;
    for (const f of flags) n += f;
    this.selection.set(path, flags); // counted even when empty: freeze/by_tensor lists every selected tensor
    if (n === 0) return;
    const old = this.masks.get(path);
    if (old) tf.dispose([old.frozen, old.keep].filter((t): t is tf.Tensor => !!t));
    const all = n === flags.length;
    this.masks.set(path, all ? { all } : {
      all,
      frozen: tf.tidy(() => tf.cast(tf.tensor(flags, p.shape, 'int32'), 'bool')),
      keep: tf.tidy(() => tf.sub(1, tf.tensor(flags, p.shape, 'float32'))),
    });
    this.snapshot.set(path, { flags, values: Float32Array.from(p.dataSync() as Float32Array) });
  }

  /**
   * Freezes more entries mid-run: those `sel` flags that are not frozen yet are first set
   * back to their values in `start` (the weights the run started from), then held there,
   * so every frozen entry ends bit-identical to the start. Returns how many entries were added.
   */
  grow(params: ReadonlyMap<string, tf.Variable>, sel: Selection, start: ReadonlyMap<string, Float32Array>): number {
    let added = 0;
    for (const [path, flags] of sel) {
      const had = this.selection.get(path);
      const fresh = Uint8Array.from(flags, (f, i) => f & (had?.[i] ? 0 : 1));
      const n = fresh.reduce((a, b) => a + b, 0);
      if (!n) continue;
      setEntries(params.get(path)!, fresh, start.get(path)!);
      this.mask(params, path, Uint8Array.from(flags, (f, i) => f | (had?.[i] ?? 0)));
      added += n;
    }
    this.counts = selectionCounts(this.selection);
    return added;
  }

  /** Sets every frozen entry to its value in `start` and holds it there (a resumed guard's entries go back to where the run began). */
  restore(params: ReadonlyMap<string, tf.Variable>, start: ReadonlyMap<string, Float32Array>): void {
    for (const [path, flags] of this.selection) {
      const p = params.get(path)!;
      setEntries(p, flags, start.get(path)!);
      this.snapshot.set(path, { flags, values: Float32Array.from(p.dataSync() as Float32Array) });
    }
  }

  /** The entries frozen now, per parameter (a copy). */
  frozenSelection(): Selection {
    return new Map([...this.selection].map(([p, f]) => [p, f.slice()]));
  }

  /**
   * Installs both masks through the optimizer: AdamW holds frozen entries fixed, and
   * applyGradients zeroes their gradients before the transforms run. Not owned: dispose
   * the Freezer after the optimizer's last update. `optimizer` is trainer/optimizer.ts's
   * AdamW, or any optimizer that reads `freezer` the same way.
   */
  install(optimizer: { freezer: Freezer | undefined }): this {
    optimizer.freezer = this;
    return this;
  }

  /**
   * The gradient stage alone: drops fully frozen tensors, zeroes frozen entries of the rest.
   * applyGradients runs it for an installed Freezer; a loop of your own needs `install` too.
   */
  transform(name = 'freeze'): GradientTransform {
    return {
      name,
      apply: (grads: NamedGrads, ctx?: TransformContext) => {
        if (this.guard && ctx) this.guard.beforeStep(ctx.step, this, ctx.params);
        const out: NamedGrads = {};
        for (const [path, g] of Object.entries(grads)) {
          const m = this.masks.get(path);
          if (!m) out[path] = g;
          else if (!m.all) out[path] = tf.mul(g, m.keep!);
        }
        return { grads: out, stats: { frozen_entries: this.counts.total, ...(this.guard ? { guard_percent: this.guard.percent } : {}) } };
      },
    };
  }

  /** Compares every frozen entry with its value at construction, bit for bit. */
  verify(params: ReadonlyMap<string, tf.Variable>): { ok: boolean; changed: Record<string, number> } {
    const changed: Record<string, number> = {};
    for (const [path, { flags, values }] of this.snapshot) {
      const now = new Uint32Array((params.get(path)!.dataSync() as Float32Array).slice().buffer);
      const then = new Uint32Array(values.buffer);
      let n = 0;
      for (let i = 0; i < flags.length; i++) if (flags[i] && now[i] !== then[i]) n++;
      if (n) changed[path] = n;
    }
    return { ok: Object.keys(changed).length === 0, changed };
  }

  /** One line per tensor: `blocks.0.attn.W_Q 128/256`. */
  describe(): string {
    return Object.entries(this.counts.byPath)
      .filter(([, c]) => c.frozen > 0)
      .map(([path, c]) => `${path} ${c.frozen}/${c.of}`)
      .join(', ');
  }

  dispose(): void {
    for (const m of this.masks.values()) tf.dispose([m.frozen, m.keep].filter((t): t is tf.Tensor => !!t));
    this.masks.clear();
  }
}

/** p[i] ← from[i] where flags[i] is set. */
function setEntries(p: tf.Variable, flags: Uint8Array, from: Float32Array): void {
  const now = p.dataSync() as Float32Array;
  const next = tf.tensor(Float32Array.from(now, (x, i) => (flags[i] ? from[i]! : x)), p.shape);
  p.assign(next);
  next.dispose();
}
