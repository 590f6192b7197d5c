import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../backend/ops.ts';
import { isolatedGradients, tapeOn, variablesRead } from '../backend/recompute.ts';

/** The part of a causal LM chunked cross-entropy reads (CONTRACT.md's `unembed`). */
export interface Unembedding {
  /** Final hidden states [N, D] → logits [N, V]. */
  unembed(hidden: tf.Tensor2D): tf.Tensor2D;
}

/** Logits floats per chunk under `ce_chunk: auto`: 2^24 (64 MiB of float32). */
export const AUTO_CHUNK_LOGITS = 2 ** 24;

/** Rows (tokens) per cross-entropy chunk: the setting, or `auto` = ⌊2^24 / V⌋ (at least 1). */
export function ceChunkRows(vocabSize: number, setting: number | 'auto' = 'auto'): number {
  return setting === 'auto' ? Math.max(1, Math.floor(AUTO_CHUNK_LOGITS / vocabSize)) : setting;
}

/**
 * Per-row negative log-likelihood of `targets` under `model.unembed(hidden)`: hidden
 * [N, D], targets int32 [N] → [N], computed `chunkRows` rows at a time so at most one
 * chunk's logits [chunkRows, V] (and, in the backward pass, its softmax and gradient)
 * are alive: the backward recomputes each chunk's logits instead of keeping them. With
 * N ≤ chunkRows it is the plain fused cross-entropy, unchanged. Not tidied: call inside
 * tf.tidy or a gradient.
 */
export function chunkedNll(model: Unembedding, hidden: tf.Tensor2D, targets: tf.Tensor1D, chunkRows: number): tf.Tensor1D {
  const N = hidden.shape[0];
  if (N <= chunkRows) return crossEntropy(model.unembed(hidden), targets);
  const spans = chunkSpans(N, chunkRows);
  const chunkNll = (h: tf.Tensor2D, t: tf.Tensor1D, [start, n]: Span) =>
    tf.tidy(() => crossEntropy(model.unembed(tf.slice(h, [start, 0], [n, -1])), tf.slice(t, start, n)));
  const forward = (h: tf.Tensor2D, t: tf.Tensor1D) => tf.concat(spans.map((s) => chunkNll(h, t, s))) as tf.Tensor1D; // [N]
  if (!tapeOn()) return forward(hidden, targets);

  // The unembedding's trainable variables are inputs of the op, so their gradients reach the tape.
  const vars = variablesRead((h) => model.unembed(h as tf.Tensor2D), [1, hidden.shape[1]]);
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const h = args[0] as tf.Tensor2D;
    save([h, targets]);
    return {
      value: forward(h, targets),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward(model, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor1D, dy as tf.Tensor1D, vars, spans),
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(hidden, ...vars) as tf.Tensor1D;
}

type Span = [start: number, rows: number];

/** [start, rows] of each chunk of N rows. */
function chunkSpans(N: number, chunkRows: number): Span[] {
  const spans: Span[] = [];
  for (let s = 0; s < N; s += chunkRows) spans.push([s, Math.min(chunkRows, N - s)]);
  return spans;
}

/** Gradients for [hidden, ...vars], one chunk at a time: recompute its logits, backprop dy's slice. */
function backward(model: Unembedding, hidden: tf.Tensor2D, targets: tf.Tensor1D, dy: tf.Tensor1D, vars: tf.Variable[], spans: Span[]): tf.Tensor[] {
  const dHidden: tf.Tensor[] = [];
  let dVars: tf.Tensor[] | null = null;
  for (const [start, n] of spans) {
    const g = tf.tidy(() => {
      const h = tf.slice(hidden, [start, 0], [n, -1]) as tf.Tensor2D; // [n, D]
      const t = tf.slice(targets, start, n) as tf.Tensor1D;
      return isolatedGradients(() => crossEntropy(model.unembed(h), t), [h, ...vars], tf.slice(dy, start, n));
    });
    dHidden.push(g[0]!);
    const gv = g.slice(1);
    if (dVars === null) dVars = gv;
    else {
      const prev: tf.Tensor[] = dVars;
      dVars = prev.map((a, i) => tf.add(a, gv[i]!));
      tf.dispose([...prev, ...gv]);
    }
  }
  const dh = tf.concat(dHidden); // [N, D]
  tf.dispose(dHidden);
  return [dh, ...(dVars ?? [])];
}
