import * as tf from '@tensorflow/tfjs';

/**
 * Recomputation (gradient checkpointing) for any differentiable function of one tensor:
 * the forward keeps only the input, and the backward re-runs the function under its own
 * gradient tape. Model families wrap a block (`recomputed(block, x)`), chunked
 * cross-entropy wraps the unembedding. Values and gradients equal the plain call's to
 * float rounding (tests/backend/recompute.test.ts).
 *
 * Two tfjs details this module exists to get right:
 *  - A customGrad op gets gradients only for its explicit inputs, so the variables the
 *    function reads must be inputs too. `variablesRead` finds them by differentiating the
 *    function once on a one-row probe, so LoRA adapters or any other weightTransform are
 *    found without the caller listing them.
 *  - tfjs's gradients() inside a gradient function replaces the engine's active tape and
 *    then nulls it, which breaks the outer backward pass (it frees the outer tape's saved
 *    tensors from `state.activeTape`). `isolatedGradients` saves and restores it.
 */

/** True while a gradient tape records (inside tf.grads / variableGrads, outside kernels). */
export function tapeOn(): boolean {
  return tf.engine().isTapeOn();
}

/**
 * Gradients of `f()` with respect to `xs`, callable inside another gradient's backward
 * pass. Inputs `f` does not depend on get zeros. Not tidied: call inside tf.tidy.
 */
export function isolatedGradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor): tf.Tensor[] {
  const engine = tf.engine();
  const outerTape = engine.state.activeTape;
  try {
    const { value, grads } = engine.gradients(f, xs, dy, true);
    value.dispose();
    return grads.map((g, i) => g ?? tf.zerosLike(xs[i]!));
  } finally {
    engine.state.activeTape = outerTape;
  }
}

/**
 * The trainable variables `fn` reads, found by differentiating it on zeros of
 * `probeShape` (a small input `fn` accepts, e.g. one row). The probe is a fresh tensor,
 * so the search stops at `fn`'s own inputs even while an outer tape records.
 * Costs one tiny forward and backward.
 */
export function variablesRead(fn: (x: tf.Tensor) => tf.Tensor, probeShape: number[]): tf.Variable[] {
  const trainable = Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
  if (!trainable.length) return [];
  const probe = tf.zeros(probeShape);
  // Called while an outer tape records (a recomputed block, chunked cross-entropy), tfjs's
  // gradients() would append the probe's forward and backward to that tape, with every
  // tensor they save (each LoRA-merged weight of the block, the transposed unembedding),
  // and keep them until the outer backward ends: ~60 MB per block on a SmolLM2 shape.
  // With the depth at 0 it records on a fresh tape and frees it; the outer one is restored.
  const engine = tf.engine();
  const outer = { tape: engine.state.activeTape, depth: engine.state.gradientDepth };
  engine.state.gradientDepth = 0;
  try {
    const { value, grads } = engine.gradients(() => tf.sum(fn(probe)), trainable, undefined, true);
    value.dispose();
    tf.dispose(grads.filter((g) => g != null));
    return trainable.filter((_v, i) => grads[i] != null);
  } finally {
    engine.state.activeTape = outer.tape;
    engine.state.gradientDepth = outer.depth;
    probe.dispose();
  }
}

/**
 * `fn(x)` whose backward pass recomputes `fn` instead of keeping its intermediates: the
 * tape holds only `x`. `vars`: the trainable variables `fn` reads (default: found with
 * `variablesRead` on `probeShape`, default one token: [1, …, 1, D]). With no tape recording it is `fn(x)`.
 * `fn` must not close over tensors that die before the backward pass (re-create them
 * from long-lived ones inside `fn`), and must be deterministic (no dropout).
 */
export function recomputed<T extends tf.Tensor>(fn: (x: tf.Tensor) => T, x: tf.Tensor, opts: { vars?: tf.Variable[]; probeShape?: number[] } = {}): T {
  if (!tapeOn()) return fn(x);
  const vars = opts.vars ?? variablesRead(fn, opts.probeShape ?? oneToken(x));
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    save([input]);
    return {
      value: fn(input),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved[0]!;
        // Re-run fn with xs as a fresh input: the vector-Jacobian product dyᵀ·∂fn/∂[x, vars].
        return isolatedGradients(() => fn(xs), [xs, ...vars], dy);
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(x, ...vars) as T;
}

/** One token of x: [1, …, 1, D]. */
function oneToken(x: tf.Tensor): number[] {
  return x.shape.map((d, i) => (i === x.rank - 1 ? d : 1));
}
