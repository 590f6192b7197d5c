/**
 * The vocabulary end of a language model whose output head does not train (LoRA, a frozen
 * copy): logits, cross-entropy and the hidden state's gradient, with no gradient formed for
 * the head and no transpose of it per call.
 *
 * The head is W [V, D] (`vocabRows`: a tied embedding, read as h·Wᵀ) or W [D, V] (an untied
 * unembedding, h·W + b). Products with Wᵀ run as (W·aᵀ)ᵀ (matMulNTWide): the few-row operand
 * and the result are transposed, never the [V, D] matrix, which stays one persistent tensor
 * (so the backend's packed copy of it is made once, not per call).
 *
 * `frozenHeadNll` is the training loss: per chunk of rows, the forward pass computes the logits
 * (one product), the per-row loss, and the loss's gradient for each row's hidden state,
 * softmax·head − head[target] (the second product), keeping only that [N, D] gradient. The backward
 * pass scales it by the incoming per-row gradient. Two [n × D × V] products per chunk, where
 * differentiating through a recomputed head took four (logits twice, the hidden state's gradient,
 * and the head's own gradient, dropped).
 */
import * as tf from '@tensorflow/tfjs';
import { withGrad } from './grad.ts';
import { matMulNTWide } from './matmul.ts';

/** An output head's tensors (see the module comment for the two layouts). */
export interface HeadWeights {
  /** [V, D] when `vocabRows`, else [D, V]. */
  weight: tf.Tensor2D;
  vocabRows: boolean;
  /** [V], untied heads only. */
  bias?: tf.Tensor1D;
}

/** True when nothing in the head trains: every tensor is a variable no optimizer updates. */
export function isFrozenHead(head: HeadWeights): boolean {
  const frozen = (t: tf.Tensor | undefined) => !t || (t instanceof tf.Variable && !t.trainable);
  return frozen(head.weight) && frozen(head.bias);
}

/** h [n, D] → logits [n, V], no gradient for the head. */
function logitsOf(head: HeadWeights, h: tf.Tensor2D): tf.Tensor2D {
  if (head.vocabRows) return matMulNTWide(h, head.weight);
  return (head.bias ? tf.fused.matMul({ a: h, b: head.weight, bias: head.bias }) : tf.matMul(h, head.weight)) as tf.Tensor2D;
}

/** dlogits [n, V] → the hidden state's gradient [n, D]. */
function hiddenGradOf(head: HeadWeights, dlogits: tf.Tensor2D): tf.Tensor2D {
  return head.vocabRows ? tf.matMul(dlogits, head.weight) : matMulNTWide(dlogits, head.weight);
}

/** Logits of a frozen head, h [n, D] → [n, V], differentiable in h only. */
export function frozenHeadLogits(head: HeadWeights, h: tf.Tensor2D): tf.Tensor2D {
  const op = withGrad(([x]) => ({ value: logitsOf(head, x as tf.Tensor2D), gradFunc: (dy) => [hiddenGradOf(head, dy as tf.Tensor2D)] }));
  return op(h) as tf.Tensor2D;
}

/**
 * One chunk: −log softmax(h·head)[target] per row [n], and (with `withGrad`) its gradient for
 * h, (softmax − one-hot)·head [n, D], formed as softmax·head − head[target]: the one-hot is
 * never made, and the [n, V] work is the product, the softmax and two row maxima. The loss is
 * read off the softmax as fused.ts's crossEntropy does (log-sum-exp = max − log max p); the
 * target's logit is gathered. At most two [n, V] tensors exist at once.
 */
function chunkLoss(head: HeadWeights, h: tf.Tensor2D, targets: tf.Tensor1D, withGrad: boolean): [tf.Tensor1D, tf.Tensor2D?] {
  return tf.tidy(() => {
    const [n] = h.shape;
    const V = head.vocabRows ? head.weight.shape[0] : head.weight.shape[1];
    const logits = logitsOf(head, h); // [n, V]
    const p = tf.softmax(logits);
    const lse = tf.sub(tf.max(logits, -1), tf.log(tf.max(p, -1))); // [n]
    const at = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(V, 'int32')), targets); // row·V + target
    const nll = tf.sub(lse, tf.gather(tf.reshape(logits, [-1]), at)) as tf.Tensor1D; // [n]
    logits.dispose();
    if (!withGrad) return [nll];
    const rows = head.vocabRows ? tf.gather(head.weight, targets) : tf.transpose(tf.gather(head.weight, targets, 1)); // head[target] [n, D]
    return [nll, tf.sub(hiddenGradOf(head, p as tf.Tensor2D), rows) as tf.Tensor2D];
  });
}

/**
 * Per-row negative log-likelihood of `targets` under a frozen head: hidden [N, D], targets
 * int32 [N] → [N], `chunkRows` rows at a time. Differentiable in `hidden` only; what it keeps
 * for the backward pass is one [N, D] tensor. Not tidied: call inside tf.tidy or a gradient.
 */
export function frozenHeadNll(head: HeadWeights, hidden: tf.Tensor2D, targets: tf.Tensor1D, chunkRows: number): tf.Tensor1D {
  const N = hidden.shape[0];
  const run = (h: tf.Tensor2D, withGrad: boolean) => {
    const nll: tf.Tensor[] = [];
    const grad: tf.Tensor[] = [];
    for (let start = 0; start < N; start += chunkRows) {
      const n = Math.min(chunkRows, N - start);
      const [l, g] = tf.tidy(() => chunkLoss(head, tf.slice(h, [start, 0], [n, -1]), tf.slice(targets, start, n), withGrad));
      nll.push(l);
      if (g) grad.push(g);
    }
    const cat = (parts: tf.Tensor[]) => (parts.length === 1 ? parts[0]! : tf.concat(parts));
    return { nll: cat(nll) as tf.Tensor1D, grad: withGrad ? (cat(grad) as tf.Tensor2D) : undefined };
  };
  if (!tf.engine().isTapeOn()) return run(hidden, false).nll;
  const op = withGrad(([h], save) => {
    const { nll, grad } = run(h as tf.Tensor2D, true);
    save([grad!]);
    return { value: nll, gradFunc: (dy, saved) => [tf.mul(saved[0]!, tf.expandDims(dy, 1))] }; // [N, D]
  });
  return op(hidden) as tf.Tensor1D;
}
