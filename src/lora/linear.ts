/**
 * The adapted linear layer, as PEFT runs it: y = x·W (+ b) + s·((x·Aᵀ)·Bᵀ), with the frozen
 * base W (and b) captured as constants. Nothing weight-sized is formed: no ΔW = s·(B·A)ᵀ in
 * the forward pass, no [in, out] gradient of W in the backward pass (the op's inputs are x, A
 * and B only, so tfjs takes no gradient for W). Per call that is the base product and four
 * rank-r products forward, and dy·Wᵀ plus four rank-r products backward.
 *
 * Shapes: x [N, in], W [in, out] (bonsai's x·W layout), b [out], A [r, in], B [out, r]
 * (PEFT's orientation, lora_A / lora_B as the files hold them).
 */
import * as tf from '@tensorflow/tfjs';
import { withGrad } from '../backend/grad.ts';
import { matMulNT, matMulTN } from '../backend/ops.ts';

/**
 * x·W (+ b) + scale·(x·Aᵀ)·Bᵀ → [N, out], differentiable in x, A and B. W and b must outlive
 * the backward pass (the model's variables do); with B = 0 the value is the base product itself.
 */
export function loraLinear(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D | undefined, A: tf.Tensor2D, B: tf.Tensor2D, scale: number): tf.Tensor2D {
  const op = withGrad(([xin, Ain, Bin], save) => {
    const xs = xin as tf.Tensor2D;
    const base = b ? tf.fused.matMul({ a: xs, b: W, bias: b }) : tf.matMul(xs, W); // [N, out]
    const su = tf.mul(matMulNT(xs, Ain as tf.Tensor2D), scale) as tf.Tensor2D; // s·x·Aᵀ [N, r]
    save([xs, su, Ain!, Bin!]);
    return {
      value: tf.add(base, matMulNT(su, Bin as tf.Tensor2D)),
      gradFunc: (dy, saved) => {
        const [x0, su0, A0, B0] = saved as tf.Tensor2D[];
        const g = dy as tf.Tensor2D; // [N, out]
        const du = tf.mul(tf.matMul(g, B0!), scale) as tf.Tensor2D; // ∂/∂(x·Aᵀ) = s·dy·B [N, r]
        const dB = matMulTN(g, su0!); // dyᵀ·(s·u) [out, r]
        const dA = matMulTN(du, x0!); // duᵀ·x [r, in]
        const dx = tf.add(matMulNT(g, W), tf.matMul(du, A0!)); // dy·Wᵀ + du·A [N, in]
        return [dx, dA, dB];
      },
    };
  });
  return op(x, A, B) as tf.Tensor2D;
}
