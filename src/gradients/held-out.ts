/**
 * Held-out splits for the rules that set a method's strength (the freeze guard, the K-FAC
 * edit's strength rule): what counts as one item, the checks that keep a validation split
 * apart from the items results are reported on, and the exact-match accuracy they read.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types.ts';
import { crossEntropy } from '../backend/ops.ts';
import type { CausalLM } from '../models/model.ts';

/** A dataset reference as recipes write it. */
export interface DataRef {
  format: 'text' | 'jsonl';
  path: string;
}

/** A dataset's items by line (1-based): a JSONL record is its prompt (its text when it has none), a text file each non-blank line. */
export function datasetItems(ref: DataRef): Map<string, number> {
  const items = new Map<string, number>();
  readFileSync(ref.path, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let key = line;
    if (ref.format === 'jsonl') {
      try {
        const o = JSON.parse(line) as { prompt?: unknown; text?: unknown };
        key = typeof o.prompt === 'string' ? o.prompt : typeof o.text === 'string' ? o.text : line;
      } catch {
        // A malformed line is the data loader's to report, with its own message.
      }
    }
    if (!items.has(key)) items.set(key, i + 1);
  });
  return items;
}

/**
 * Why `validation` cannot serve as a held-out split: it holds no item, or it shares items
 * with one of `apart` (each named by its role, e.g. "the test"). Undefined when it can.
 */
export function heldOutProblem(validation: DataRef, apart: ReadonlyArray<{ ref: DataRef; role: string }>): string | undefined {
  const mine = datasetItems(validation);
  if (mine.size === 0) return `${validation.path} holds no items: a held-out split needs at least one`;
  for (const { ref, role } of apart) {
    const theirs = ref.path === validation.path ? mine : datasetItems(ref);
    const shared = [...mine].filter(([k]) => theirs.has(k));
    if (!shared.length) continue;
    const [key, line] = shared[0]!;
    const first = `${JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key)} (line ${line} here, line ${theirs.get(key)} there)`;
    return `${validation.path} shares ${shared.length} item${shared.length === 1 ? '' : 's'} with ${role} ${ref.path}, e.g. ${first}; a held-out split must leave out the items results are reported on`;
  }
  return undefined;
}

/**
 * Share of the batches' rows whose every target token is the model's argmax given the tokens
 * before it (teacher-forced exact match; no hooks, so training-time interventions stay off).
 */
export function exactMatchAccuracy(model: CausalLM, batches: readonly Batch[]): number {
  let right = 0;
  let rows = 0;
  for (const b of batches) {
    const { batchSize: B, seqLen: T } = b;
    const pred = tf.tidy(() => {
      const { logits, cache } = model.forward(tf.tensor2d(b.inputs, [B, T], 'int32'));
      cache.dispose();
      return tf.argMax(logits, -1).dataSync(); // [B·T]
    });
    for (let r = 0; r < B; r++) {
      let counted = false;
      let ok = true;
      for (let t = 0; t < T; t++) {
        if (!b.weights[r * T + t]) continue;
        counted = true;
        if (pred[r * T + t] !== b.targets[r * T + t]) ok = false;
      }
      if (!counted) continue;
      rows++;
      if (ok) right++;
    }
  }
  return rows ? right / rows : NaN;
}

/** Token-mean loss (nats) of the batches' target tokens, no hooks: how the K-FAC rule reads its validation split. */
export function heldOutLoss(model: CausalLM, batches: readonly Batch[]): number {
  let total = 0;
  let tokens = 0;
  for (const b of batches) {
    const { batchSize: B, seqLen: T } = b;
    total += tf.tidy(() => {
      const { logits, cache } = model.forward(tf.tensor2d(b.inputs, [B, T], 'int32'));
      cache.dispose();
      const nll = crossEntropy(tf.reshape(logits, [B * T, -1]) as tf.Tensor2D, tf.tensor1d(b.targets, 'int32')); // [B·T]
      return tf.sum(tf.mul(nll, tf.tensor1d(b.weights))).dataSync()[0]!;
    });
    tokens += b.weights.reduce((s, w) => s + w, 0);
  }
  return tokens ? total / tokens : NaN;
}
