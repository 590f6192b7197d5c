import * as tf from '@tensorflow/tfjs';
import { activeBlas, sgemmOnHeap } from './blas-kernels.ts';
import { withGrad } from './grad.ts';
import type { WasmBackendLike } from './wasm-kernels.ts';

/**
 * Attention on the platform's BLAS without a single transpose. q, k, v arrive in the
 * projections' layout [B, T, H, dh]: head h of sequence b is a [T, dh] matrix at offset
 * (b·T·H + h)·dh with rows H·dh apart, which is exactly what a BLAS leading dimension
 * describes. So every product of the forward and backward pass reads its operands where
 * they lie and writes z, dq, dk, dv straight into [B, T, H, dh]; only the scores and the
 * pattern are [B, H, T, T]. (On XNNPACK the same op needs 16 transposes per layer.)
 */

/** How a [B, H] grid of matrices lies in a tensor: per head inside rows ('heads', [B, rows, H, cols]) or one after another ('batched', [B, H, rows, cols]). */
type Layout = 'heads' | 'batched';

interface HeadsProduct {
  B: number;
  H: number;
  /** op(a) is [M, K], op(b) is [K, N]; the output [M, N] per (b, h). */
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
  a: Layout;
  b: Layout;
  out: Layout;
}

const KERNEL = 'BonsaiHeadsMatMul';

/** Element offset and leading dimension of matrix (b, h) of a [rows, cols] grid. */
function place(layout: Layout, B: number, H: number, rows: number, cols: number) {
  return layout === 'heads'
    ? { offset: (b: number, h: number) => (b * rows * H + h) * cols, ld: H * cols }
    : { offset: (b: number, h: number) => (b * H + h) * rows * cols, ld: cols };
}

function headsMatMulKernel(args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackendLike; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const p = args.attrs as unknown as HeadsProduct;
  const { B, H, M, N, K } = p;
  const outShape = p.out === 'heads' ? [B, M, H, N] : [B, H, M, N];
  const out = args.backend.makeOutput(outShape, 'float32');
  const pa = place(p.a, B, H, p.tA ? K : M, p.tA ? M : K);
  const pb = place(p.b, B, H, p.tB ? N : K, p.tB ? K : N);
  const po = place(p.out, B, H, M, N);
  const calls: Parameters<typeof sgemmOnHeap>[1] = [];
  for (let bi = 0; bi < B; bi++) {
    for (let h = 0; h < H; h++) calls.push({ a: pa.offset(bi, h), b: pb.offset(bi, h), c: po.offset(bi, h) });
  }
  sgemmOnHeap(args.backend, calls, { a, b, out }, { M, N, K, tA: p.tA, tB: p.tB, lda: pa.ld, ldb: pb.ld, ldc: po.ld });
  return out;
}

let registered = false;

function headsMatMul(a: tf.Tensor, b: tf.Tensor, p: HeadsProduct): tf.Tensor {
  if (!registered) {
    tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: headsMatMulKernel as unknown as tf.KernelFunc });
    registered = true;
  }
  return tf.engine().runKernel(KERNEL, { a, b }, p as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** True when attention can run here: wasm with its products on a BLAS. */
export function blasAttentionAvailable(): boolean {
  return tf.getBackend() === 'wasm' && activeBlas() !== undefined;
}

/** z = softmax(q·kᵀ·scale + mask)·v for q, k, v [B, T, H, dh], mask [T, T] additive; z [B, T, H, dh]. */
export function blasAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor2D, scale: number): tf.Tensor4D {
  const [B, T, H, dh] = q.shape;
  const grid = { B, H };
  const op = withGrad(([qin, kin, vin], save) => {
    const s = headsMatMul(qin!, kin!, { ...grid, M: T, N: T, K: dh, tA: false, tB: true, a: 'heads', b: 'heads', out: 'batched' }); // [B, H, T, T]
    const p = tf.softmax(tf.add(tf.mul(s, scale), mask)); // [B, H, T, T]
    save([qin!, kin!, vin!, p]);
    return {
      value: headsMatMul(p, vin!, { ...grid, M: T, N: dh, K: T, tA: false, tB: false, a: 'batched', b: 'heads', out: 'heads' }), // [B, T, H, dh]
      gradFunc: (dz, saved) => {
        const [qs, ks, vs, ps] = saved as tf.Tensor[];
        const dp = headsMatMul(dz, vs!, { ...grid, M: T, N: T, K: dh, tA: false, tB: true, a: 'heads', b: 'heads', out: 'batched' }); // [B, H, T, T]
        const dv = headsMatMul(ps!, dz, { ...grid, M: T, N: dh, K: T, tA: true, tB: false, a: 'batched', b: 'heads', out: 'heads' });
        // Softmax backward, then the scale: ds = p·(dp − Σ_j dp·p)·scale.
        const ds = tf.mul(tf.mul(ps!, tf.sub(dp, tf.sum(tf.mul(dp, ps!), -1, true))), scale); // [B, H, T, T]
        const dq = headsMatMul(ds, ks!, { ...grid, M: T, N: dh, K: T, tA: false, tB: false, a: 'batched', b: 'heads', out: 'heads' });
        const dk = headsMatMul(ds, qs!, { ...grid, M: T, N: dh, K: T, tA: true, tB: false, a: 'batched', b: 'heads', out: 'heads' });
        return [dq, dk, dv];
      },
    };
  });
  return op(q, k, v) as tf.Tensor4D;
}
