/**
 * The recipe's evals (kinds/evals.ts), measured on the trained model: no interventions, as
 * at inference, and no sampling, so they change nothing else in the run. The bench's task
 * tables (bench/tasks/) measure with the same functions.
 */
import * as tf from '@tensorflow/tfjs';
import { loadDataset, type Example } from '../data/index.ts';
import type { CausalLM } from '../models/model.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import { renderedTailIds } from '../models/input-ids.ts';
import type { Recipe } from '../recipe/schema.ts';
import { build, type Builders } from '../registry/kinds.ts';
import { evalMetric, type evalKinds } from './kinds/evals.ts';

/**
 * Runs `model` (no hooks) over `ex` in chunks of 64 rows, maps each chunk's logits [rows, T, V]
 * through `head`, and hands `visit` the result's data with each example and its row.
 */
function overAnswers(model: CausalLM, ex: readonly Example[], head: (logits: tf.Tensor3D) => tf.Tensor, visit: (data: ArrayLike<number>, e: Example, row: number, T: number, V: number) => void): void {
  const T = ex[0]!.ids.length - 1;
  for (let i = 0; i < ex.length; i += 64) {
    const chunk = ex.slice(i, i + 64);
    const ids = tf.tensor2d(Int32Array.from(chunk.flatMap((e) => Array.from(e.ids.subarray(0, T)))), [chunk.length, T], 'int32');
    const { logits, cache } = model.forward(ids);
    const out = head(logits as tf.Tensor3D);
    const data = out.dataSync();
    const V = logits.shape[2]!;
    tf.dispose([ids, logits, out]);
    cache.dispose();
    chunk.forEach((e, b) => visit(data, e, b, T, V));
  }
}

/**
 * Share of examples whose `nth` completion token (0 = first) is the model's argmax given
 * the tokens before it (no hooks): exact-match accuracy of a one-token answer.
 */
export function accuracy(model: CausalLM, ex: readonly Example[], nth = 0): number {
  let right = 0;
  overAnswers(model, ex, (logits) => tf.argMax(logits, -1), (pred, e, b, T) => {
    const t = e.lossMask.indexOf(1) - 1 + nth; // logits at t predict ids[t + 1]
    if (pred[b * T + t] === e.ids[t + 1]) right++;
  });
  return right / ex.length;
}

/** Mean probability the model gives `token` as the first completion token (no hooks). */
export function tokenProb(model: CausalLM, ex: readonly Example[], token: number): number {
  let sum = 0;
  overAnswers(model, ex, (logits) => tf.softmax(logits), (p, e, b, T, V) => {
    const t = e.lossMask.indexOf(1) - 1;
    sum += p[(b * T + t) * V + token]!;
  });
  return sum / ex.length;
}

/** Each of the recipe's evals on `model`, as `eval/<name>/<metric>`; examples are cut to `seqLen` tokens. */
export function runEvals(recipe: Pick<Recipe, 'evals'>, model: CausalLM, tokenizer: Tokenizer, seqLen: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of recipe.evals ?? []) {
    const ex = loadDataset(e.data, tokenizer, seqLen).examples;
    out[`eval/${e.name}/${evalMetric(e)}`] = build(evalBuilders, e.kind, e, model, ex, tokenizer);
  }
  return out;
}

/** A measurement for every eval kind. */
const evalBuilders: Builders<typeof evalKinds, [model: CausalLM, ex: Example[], tokenizer: Tokenizer], number> = {
  accuracy: (e, model, ex) => accuracy(model, ex, e.token),
  token_prob: (e, model, ex, tokenizer) => tokenProb(model, ex, renderedTailIds(tokenizer, e.text)[0]!),
};
