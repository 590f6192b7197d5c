import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { flatten, topKBasisParts } from './linalg.ts';
import type { GradientTransform, NamedGrads } from './transform.ts';

/** Where an unwanted subspace comes from: fixed vectors, or sample gradients recomputed on a schedule. */
export type SubspaceSource =
  | { kind: 'fixed'; vectors: NamedGrads[] }
  | { kind: 'gradients'; sample: () => NamedGrads[]; every: number };

export interface ProjectOutOptions {
  name?: string;
  source: SubspaceSource;
  /** Keep at most this many directions (the top ones by energy). */
  topK: number;
  /** Only these parameters are projected (default: every path the gradient has). */
  include?: (path: string) => boolean;
}

/**
 * Gradient projection away from a subspace: g ← g − Uᵀ(U g), U [k, P] orthonormal over the
 * chosen parameters, so the update has no component along the unwanted directions. Logs
 * `cos` (‖Ug‖/‖g‖, the cosine between g and the subspace), `removed` (share of ‖g‖ taken
 * away) and `dims` (k after orthonormalisation).
 */
export function projectOutTransform(o: ProjectOutOptions): GradientTransform {
  // U is kept split by parameter (U_p [k, size_p]): the projection then runs tensor by tensor,
  // never concatenating the gradient into one [P] vector nor splitting it back (on wasm the
  // split alone cost 10 ms a step on the bench model; the per-tensor form costs ~4 ms in all).
  let U: tf.Tensor2D[] | null = null;
  let paths: string[] = [];
  let energy: number[] = [];
  const refresh = (grads: NamedGrads) => {
    tf.dispose(U ?? []);
    paths = Object.keys(grads).filter((p) => o.include?.(p) ?? true).sort();
    if (!paths.length) throw new BonsaiError(`gradients.${o.name ?? 'project_out'}: no parameter to project`);
    const samples = o.source.kind === 'fixed' ? o.source.vectors : o.source.sample();
    for (const s of samples) for (const p of paths) {
      if (!s[p]) throw new BonsaiError(`gradients.${o.name ?? 'project_out'}: a direction lacks parameter ${p}`);
      if (s[p].size !== grads[p]!.size) throw new BonsaiError(`gradients.${o.name ?? 'project_out'}: direction for ${p} has ${s[p].size} entries, the parameter ${grads[p]!.size}`);
    }
    const parts = tf.tidy(() => paths.map((p) => tf.stack(samples.map((s) => tf.reshape(s[p]!, [-1]))) as tf.Tensor2D)); // [n, size_p] each
    if (o.source.kind === 'gradients') for (const s of samples) tf.dispose(Object.values(s));
    ({ bases: U, energy } = topKBasisParts(parts, o.topK));
    tf.dispose(parts);
  };
  return {
    name: o.name ?? 'project_out',
    apply(grads, ctx) {
      const due = o.source.kind === 'gradients' && (ctx.step - 1) % o.source.every === 0;
      const refreshed = U === null || due;
      if (refreshed) refresh(grads);
      const Up = U!;
      const wantStats = ctx.stats !== false;
      const { out: projected, norms } = tf.tidy(() => {
        const c = tf.addN(paths.map((p, i) => tf.matMul(Up[i]!, tf.reshape(grads[p]!, [-1, 1])))); // [k, 1] = U g
        const out = paths.map((p, i) => tf.sub(grads[p]!, tf.reshape(tf.matMul(c, Up[i]!, true, false), grads[p]!.shape))); // g_p − (Uᵀc)_p
        if (!wantStats) return { out }; // the norms below are for the log only
        const gg = tf.addN(paths.map((p) => tf.sum(tf.square(grads[p]!)))); // ‖g‖²
        return { out, norms: tf.stack([gg, tf.sum(tf.square(c))]) };
      }) as { out: tf.Tensor[]; norms?: tf.Tensor };
      const result: NamedGrads = { ...grads, ...Object.fromEntries(paths.map((p, i) => [p, projected[i]!])) };
      if (!norms) return { grads: result, stats: { dims: Up[0]!.shape[0], refreshed: refreshed ? 1 : 0 } as Record<string, number> };
      const [gg, cc] = norms.dataSync() as Float32Array;
      norms.dispose();
      // U's rows are orthonormal, so ‖g − Uᵀ(Ug)‖² = ‖g‖² − ‖Ug‖².
      const gn = Math.sqrt(gg!);
      const cn = Math.sqrt(cc!);
      const on = Math.sqrt(Math.max(gg! - cc!, 0));
      return {
        grads: result,
        stats: { cos: gn > 0 ? cn / gn : 0, removed: gn > 0 ? 1 - on / gn : 0, dims: Up[0]!.shape[0], refreshed: refreshed ? 1 : 0, top_energy: energy[0] ?? 0 },
      };
    },
    dispose() {
      tf.dispose(U ?? []);
      U = null;
    },
  };
}

/**
 * Changes nothing; logs how much of each update lies along each named direction:
 * `<name>/cos` (cosine between the update and the direction) and `<name>/proj` (the
 * update's signed length along the unit direction). Directions are recomputed each
 * `every` steps when they come from a function (e.g. a dataset's gradient).
 */
export function observeTransform(o: { name?: string; directions: Record<string, () => NamedGrads>; every: number }): GradientTransform {
  const cached = new Map<string, NamedGrads>();
  return {
    name: o.name ?? 'observe',
    apply(grads, ctx) {
      const paths = Object.keys(grads).sort();
      const stats: Record<string, number> = {};
      for (const [dn, make] of Object.entries(o.directions)) {
        if (!cached.has(dn) || (ctx.step - 1) % o.every === 0) {
          const old = cached.get(dn);
          if (old) tf.dispose(Object.values(old));
          cached.set(dn, make());
        }
        const d = cached.get(dn)!;
        const v = tf.tidy(() => {
          const g = flatten(grads, paths);
          const u = flatten(d, paths);
          const dot = tf.sum(tf.mul(g, u));
          return tf.stack([dot, tf.norm(g), tf.norm(u)]);
        });
        const [dot, gn, un] = v.dataSync();
        v.dispose();
        stats[`${dn}/cos`] = gn! > 0 && un! > 0 ? dot! / (gn! * un!) : 0;
        stats[`${dn}/proj`] = un! > 0 ? dot! / un! : 0;
      }
      return { grads, stats };
    },
    dispose() {
      for (const d of cached.values()) tf.dispose(Object.values(d));
      cached.clear();
    },
  };
}
