/**
 * Builders of the gradient-transform kinds (gradients/kinds.ts): one per kind, which the
 * compiler enforces. Transforms that compute gradients of their own (project_out from data,
 * pcgrad, observe) draw them from the recipe's data through `ctx`.
 */
import * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import type { Builders } from '../registry/kinds.ts';
import type { DatasetSource } from '../data/index.ts';
import type { CausalLM } from '../models/model.ts';
import { clipTransform } from './clip.ts';
import { loadDirections } from './directions-file.ts';
import type { gradientKinds } from './kinds.ts';
import { pcgradTransform } from './pcgrad.ts';
import { observeTransform, projectOutTransform } from './project.ts';
import { globToRegExp } from '../util/glob.ts';
import type { GradientTransform, NamedGrads } from './transform.ts';

/**
 * What the data-driven gradient kinds need beyond their own recipe entry. The trainer builds
 * it (trainer/surgery.ts), since the loss it differentiates is the trainer's.
 */
export interface SurgeryContext {
  /** The policy being trained: its parameter paths. */
  model: CausalLM;
  /** An endless source of gradients (by path) of the next-token loss on `source`'s batches; `where` names the recipe field in errors. */
  dataGradients(source: DatasetSource, where: string): () => NamedGrads;
}

/** Scales every gradient of `f()` by `w` (1 returns them as they are). */
function weighted(f: () => NamedGrads, w: number): () => NamedGrads {
  if (w === 1) return f;
  return () => {
    const g = f();
    const out: NamedGrads = {};
    for (const [k, t] of Object.entries(g)) (out[k] = tf.mul(t, w)), t.dispose();
    return out;
  };
}

/** `ctx`, or an internal error: only clip builds without the model. */
function need(ctx: SurgeryContext | undefined, kind: string): SurgeryContext {
  if (!ctx) throw new Error(`internal: gradients kind ${kind} needs the model`);
  return ctx;
}

/** A transform for every gradient kind, named `name` (unique in the recipe). */
export const gradientBuilders: Builders<typeof gradientKinds, [name: string, ctx?: SurgeryContext], GradientTransform> = {
  clip: (g, name) => clipTransform(g.max_norm, name),
  project_out(g, name, c) {
    const ctx = need(c, g.kind);
    const where = `gradients.${name}`;
    const include = g.params ? ((re) => (p: string) => re.test(p))(globToRegExp(g.params)) : undefined;
    if (include && ![...ctx.model.params.keys()].some(include)) throw new BonsaiError(`${where}.params: "${g.params}" matches no parameter`);
    if (g.directions) {
      const file = loadDirections(g.directions, 'gradient');
      const vectors = file.vectors.map((v) => Object.fromEntries(Object.entries(v).map(([p, xs]) => [p, tf.tensor1d(xs)])));
      const t = projectOutTransform({ name, source: { kind: 'fixed', vectors }, topK: g.top_k, include });
      return { ...t, dispose: () => (t.dispose?.(), vectors.forEach((v) => tf.dispose(Object.values(v)))) };
    }
    const next = ctx.dataGradients(g.unwanted!, `${where}.unwanted`);
    const sample = () => Array.from({ length: g.batches }, next);
    return projectOutTransform({ name, source: { kind: 'gradients', sample, every: g.every }, topK: g.top_k, include });
  },
  pcgrad(g, name, c) {
    const ctx = need(c, g.kind);
    const objectives = Object.fromEntries(g.objectives.map((o, i) => [o.name, weighted(ctx.dataGradients(o.data, `gradients.${name}.objectives[${i}]`), o.weight)]));
    return pcgradTransform({ name, objectives });
  },
  observe(g, name, c) {
    const ctx = need(c, g.kind);
    const directions = Object.fromEntries(g.directions.map((d, i) => [d.name, ctx.dataGradients(d.data, `gradients.${name}.directions[${i}]`)]));
    return observeTransform({ name, directions, every: g.every });
  },
};
