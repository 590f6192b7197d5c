import * as tf from '@tensorflow/tfjs';
import { Batcher, loadDataset, type DatasetSource } from '../data/index.ts';
import { BonsaiError } from '../errors.ts';
import { loadDirections } from '../gradients/directions-file.ts';
import { pcgradTransform } from '../gradients/pcgrad.ts';
import { observeTransform, projectOutTransform } from '../gradients/project.ts';
import { globToRegExp } from '../gradients/select.ts';
import type { GradientTransform, NamedGrads } from '../gradients/transform.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { HookedTransformer } from '../models/transformer.ts';
import type { GradientRecipe, Recipe } from '../recipe/schema.ts';
import { lmLoss } from './loss.ts';
import { computeGradients } from './seam.ts';

/** What gradient surgery needs beyond its own recipe entry. */
export interface SurgeryContext {
  recipe: Recipe;
  model: HookedTransformer;
  tokenizer: Tokenizer;
  seqLen: number;
}

/**
 * Gradients (by path) of the next-token loss on batches drawn, shuffled and endless, from
 * a dataset: the "other objective" that projections, PCGrad and observe compare against.
 * No interventions: these measure the model as it is.
 */
export function dataGradients(ctx: SurgeryContext, source: DatasetSource, where: string): () => NamedGrads {
  const examples = loadDataset(source, ctx.tokenizer, ctx.seqLen).examples;
  if (!examples.length) throw new BonsaiError(`${where}: ${source.path} holds no examples`);
  const batcher = new Batcher(examples, { batchSize: ctx.recipe.trainer.batch_size, seed: ctx.recipe.run.seed });
  return () => {
    const b = batcher.next();
    return computeGradients(ctx.model, () => lmLoss(ctx.model, b)).grads;
  };
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

/** One project_out / pcgrad / observe entry as a transform. */
export function buildSurgery(g: Exclude<GradientRecipe, { kind: 'clip' }>, name: string, ctx: SurgeryContext): GradientTransform {
  const where = `gradients.${name}`;
  switch (g.kind) {
    case 'project_out': {
      const include = g.params ? ((re) => (p: string) => re.test(p))(globToRegExp(g.params)) : undefined;
      if (include && ![...ctx.model.params.keys()].some(include)) throw new BonsaiError(`${where}.params: "${g.params}" matches no parameter`);
      if (g.directions) {
        const file = loadDirections(g.directions, 'gradient');
        const vectors = file.vectors.map((v) => Object.fromEntries(Object.entries(v).map(([p, xs]) => [p, tf.tensor1d(xs)])));
        const t = projectOutTransform({ name, source: { kind: 'fixed', vectors }, topK: g.top_k, include });
        return { ...t, dispose: () => (t.dispose?.(), vectors.forEach((v) => tf.dispose(Object.values(v)))) };
      }
      const next = dataGradients(ctx, g.unwanted!, `${where}.unwanted`);
      const sample = () => Array.from({ length: g.batches }, next);
      return projectOutTransform({ name, source: { kind: 'gradients', sample, every: g.every }, topK: g.top_k, include });
    }
    case 'pcgrad': {
      const objectives = Object.fromEntries(g.objectives.map((o, i) => [o.name, weighted(dataGradients(ctx, o.data, `${where}.objectives[${i}]`), o.weight)]));
      return pcgradTransform({ name, objectives });
    }
    case 'observe': {
      const directions = Object.fromEntries(g.directions.map((d, i) => [d.name, dataGradients(ctx, d.data, `${where}.directions[${i}]`)]));
      return observeTransform({ name, directions, every: g.every });
    }
  }
}
