import * as tf from '@tensorflow/tfjs';
import { Batcher, loadDataset, type DatasetSource } from '../data/index.ts';
import { BonsaiError } from '../errors.ts';
import type { SurgeryContext } from '../gradients/builders.ts';
import type { NamedGrads } from '../gradients/transform.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import type { Recipe } from '../recipe/schema.ts';
import { lmLoss } from './loss.ts';
import { computeGradients } from './seam.ts';

/** What the trainer knows that gradient surgery's data gradients need. */
interface TrainingContext {
  recipe: Recipe;
  model: CausalLM;
  tokenizer: Tokenizer;
  seqLen: number;
}

/** The context the data-driven gradient kinds build from (gradients/builders.ts). */
export function surgeryContext(ctx: TrainingContext): SurgeryContext {
  return { model: ctx.model, dataGradients: (source, where) => dataGradients(ctx, source, where) };
}

/**
 * Gradients (by path) of the next-token loss on batches drawn, shuffled and endless, from
 * a dataset: the "other objective" that projections, PCGrad and observe compare against.
 * No interventions: these measure the model as it is.
 */
function dataGradients(ctx: TrainingContext, source: DatasetSource, where: string): () => NamedGrads {
  const examples = loadDataset(source, ctx.tokenizer, ctx.seqLen).examples;
  if (!examples.length) throw new BonsaiError(`${where}: ${source.path} holds no examples`);
  const batcher = new Batcher(examples, { batchSize: ctx.recipe.trainer.batch_size, seed: ctx.recipe.run.seed });
  return () => {
    const b = batcher.next();
    return computeGradients(ctx.model, () => lmLoss(ctx.model, b)).grads;
  };
}
