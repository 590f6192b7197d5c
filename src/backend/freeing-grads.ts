import * as tf from '@tensorflow/tfjs';

/**
 * Gradients of a scalar loss with respect to variables, as `tf.variableGrads` computes them,
 * with a backward pass that frees as it goes.
 *
 * tfjs's own backward pass (tfjs-core `engine.gradients` → `backpropagateGradients`) keeps
 * every tensor an op saved for its gradient and every intermediate gradient until the whole
 * pass ends, so a step's backward peak is all saved activations plus about as much again in
 * gradients (docs/memory.md; ~170 MB per block on the SmolLM2-135M shape). Here the same tape
 * is walked in the same reverse order with the same gradient functions, and after each op's
 * gradient is taken:
 *   - the tensors it saved are freed (no other op reads them: tfjs saves a clone per op);
 *   - the gradients of its outputs are freed: the tape is in execution order, so every op that
 *     read those outputs came later and has been visited, and nothing adds to them again.
 * The live set is then the saved tensors of the ops not yet visited plus the gradient frontier,
 * which is what lets a step train without recomputation. The sums happen in tfjs's order, so
 * gradients equal tf.variableGrads' bit for bit (test/backend/freeing-grads.test.ts).
 *
 * Inside another gradient (a nested tape) it defers to tf.variableGrads.
 */

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number; kernelDepth: number };
  startTape(): void;
  endTape(): void;
}

/** `tf.variableGrads(f, varList)` (default: every trainable variable), freeing as the backward pass goes. */
export function freeingVariableGrads(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const vars = (varList ?? Object.values(tf.engine().registeredVariables)).filter((v) => v.trainable);
  if (!vars.length) throw new Error('variableGrads() expects at least one of the input variables to be trainable, but none of the variables are trainable.');
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth > 0 || engine.state.kernelDepth > 0) return tf.variableGrads(f, vars);
  return tf.tidy(() => {
    engine.startTape();
    let y: tf.Tensor;
    try {
      y = tf.tidy(f);
    } catch (e) {
      releaseTape(engine);
      throw e;
    } finally {
      engine.endTape();
    }
    if (y.rank !== 0) {
      releaseTape(engine);
      throw new Error(`The f passed in variableGrads(f) must return a scalar, but it returned a rank-${y.rank} tensor`);
    }
    const tape = engine.state.activeTape ?? [];
    try {
      const path = nodesFromXToY(tape, vars, y);
      const onPath = new Set(path.map((n) => n.id));
      // Saved tensors of ops that do not connect the variables to the loss are never read.
      for (const node of tape) if (!onPath.has(node.id)) disposeSaved(node);
      const grads = backpropagateFreeing(path, y, vars);
      const named: tf.NamedTensorMap = {};
      vars.forEach((v, i) => {
        if (grads[i]) named[v.name] = grads[i]!;
      });
      if (!Object.keys(named).length) throw new Error('Cannot find a connection between any variable and the result of the loss function y=f(x). Please make sure the operations that use variables are inside the function f passed to minimize().');
      return { value: y as tf.Scalar, grads: named };
    } finally {
      releaseTape(engine);
    }
  });
}

/** Frees every tensor the tape still holds and drops the tape (as tfjs does when its pass ends). */
function releaseTape(engine: EngineInternals): void {
  for (const node of engine.state.activeTape ?? []) disposeSaved(node);
  engine.state.activeTape = null;
}

function disposeSaved(node: TapeNode): void {
  for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
}

/**
 * The ops on a path from any of `xs` to `y`, in tape order, each with its inputs pruned to
 * those that depend on `xs` (the gradients worth taking). The same selection tfjs makes.
 */
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodeFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodeToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  return tape
    .filter((n) => nodeFromX.has(n.id) && nodeToY.has(n.id))
    .map((n) => ({ ...n, inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/**
 * Frees a gradient no longer needed under its own key, unless the map still holds the same
 * tensor elsewhere: a gradient function may hand back its dy itself as an input's gradient.
 */
function disposeUnlessHeld(grad: Map<number, tf.Tensor>, t: tf.Tensor): void {
  for (const g of grad.values()) if (g === t) return;
  t.dispose();
}

/** The reverse sweep: gradients of `y` for each of `xs` (undefined where y does not depend on it). */
function backpropagateFreeing(path: TapeNode[], y: tf.Tensor, xs: tf.Tensor[]): (tf.Tensor | undefined)[] {
  const grad = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
  const wanted = new Set(xs.map((x) => x.id));
  for (let i = path.length - 1; i >= 0; i--) {
    const node = path[i]!;
    if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputs = Object.entries(node.inputs);
    // One scope per op: what its gradient function makes besides the input gradients (a custom
    // op's temporaries, its gradients for inputs nobody asked for, zeros for unused outputs) dies here.
    const dxs = tf.tidy(() => {
      const inputGrads = node.gradient!(node.outputs.map((o) => grad.get(o.id) ?? null));
      return inputs.map(([name]) => {
        if (!(name in inputGrads)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(inputGrads)}.`);
        return inputGrads[name]!();
      });
    });
    for (const [k, [name, x]] of inputs.entries()) {
      const dx = dxs[k]!;
      if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
      }
      const prev = grad.get(x.id);
      if (!prev) grad.set(x.id, dx);
      else {
        grad.set(x.id, tf.add(prev, dx));
        disposeUnlessHeld(grad, prev);
        disposeUnlessHeld(grad, dx);
      }
    }
    disposeSaved(node);
    for (const o of node.outputs) {
      const g = grad.get(o.id);
      if (!g || wanted.has(o.id)) continue;
      grad.delete(o.id);
      disposeUnlessHeld(grad, g);
    }
  }
  return xs.map((x) => grad.get(x.id));
}
