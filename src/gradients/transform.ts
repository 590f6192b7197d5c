import type * as tf from '@tensorflow/tfjs';

/** Gradients by parameter path (`blocks.0.attn.W_Q` → its gradient). */
export type NamedGrads = Record<string, tf.Tensor>;

export interface TransformContext {
  /** The optimizer step these gradients are for (1-based). */
  step: number;
  /** The parameters being trained, by path (transforms may read but never write them). */
  params: ReadonlyMap<string, tf.Variable>;
  /**
   * False when this step's stats will not be logged (SFT logs every `log_every` steps), so a
   * transform may skip what it computes only to report. Default: true.
   */
  stats?: boolean;
}

export interface TransformResult {
  grads: NamedGrads;
  /** Scalars logged as `gradients/<name>/<key>`. */
  stats?: Record<string, number>;
}

/**
 * One stage between computing and applying gradients: freezing, projections, PCGrad and
 * clipping are all transforms, applied in recipe order. A transform returns new tensors
 * for what it changes and must not dispose its input; the train step frees the tensors
 * that a stage replaced.
 */
export interface GradientTransform {
  /** Name used in metric keys; unique within a run. */
  readonly name: string;
  apply(grads: NamedGrads, ctx: TransformContext): TransformResult;
  /** Frees any state the transform holds (e.g. a cached subspace). */
  dispose?(): void;
}

/**
 * Runs the transforms in order, disposing intermediate gradients that a later stage
 * replaced, and collects every stage's stats under its own name.
 */
export function applyTransforms(
  transforms: readonly GradientTransform[],
  grads: NamedGrads,
  ctx: TransformContext,
): { grads: NamedGrads; stats: Record<string, number> } {
  const stats: Record<string, number> = {};
  let current = grads;
  for (const t of transforms) {
    const result = t.apply(current, ctx);
    const kept = new Set(Object.values(result.grads));
    for (const g of Object.values(current)) if (!kept.has(g)) g.dispose();
    current = result.grads;
    for (const [k, v] of Object.entries(result.stats ?? {})) stats[`gradients/${t.name}/${k}`] = v;
  }
  return { grads: current, stats };
}
