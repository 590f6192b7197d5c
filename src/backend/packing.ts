import { activeBlas } from './blas-kernels.ts';

/**
 * Whether a backend keeps a packed copy of each matrix it multiplies as a right-hand operand
 * during a train step. tfjs-wasm's products on XNNPACK pack the right-hand matrix into its own
 * layout and cache it per tensor for the tensor's lifetime: for a model's weights, a second
 * copy of every linear layer's weight in the wasm heap. With the platform's BLAS
 * (blas-kernels.ts) the training products read the weights where they lie, and nothing is
 * cached. The memory estimate counts the copies (trainer/memory-estimate.ts).
 */
export function keepsPackedWeights(backend: string): boolean {
  return backend === 'wasm' && activeBlas() === undefined;
}
