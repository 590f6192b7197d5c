/**
 * Whether a backend keeps a packed copy of each matrix it multiplies as a right-hand operand.
 * tfjs-wasm's products run on XNNPACK, which packs the right-hand matrix into its own layout
 * and caches it per tensor for the tensor's lifetime: for a model's weights, a second copy of
 * every linear layer's weight in the wasm heap. The memory estimate counts it
 * (trainer/memory-estimate.ts).
 */
export function keepsPackedWeights(backend: string): boolean {
  return backend === 'wasm';
}
