import * as tf from '@tensorflow/tfjs';

/** The forward half of an op with an explicit gradient. */
export type ForwardWithGrad = (
  inputs: tf.Tensor[],
  save: tf.GradSaveFunc,
) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

/**
 * tf.customGrad with positional tensor inputs, typed for strict TypeScript. The backward
 * pass sees only `saved` (tensors the forward chose to keep) and `dy`; tfjs frees both.
 */
export function withGrad(f: ForwardWithGrad): (...inputs: tf.Tensor[]) => tf.Tensor {
  const g = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  }) as Parameters<typeof tf.customGrad>[0]);
  return (...inputs: tf.Tensor[]) => g(...inputs);
}
