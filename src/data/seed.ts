/**
 * Deriving independent seeds from (seed, purpose, counter). Each epoch's shuffle is
 * seeded from (seed, epoch) alone, so a resumed run can rebuild any epoch's order
 * without replaying the ones before it.
 */
import { BonsaiError } from '../errors.ts';

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Throws unless `seed` is a safe integer (recipes give seeds as plain numbers). */
export function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new BonsaiError(`seed must be an integer, got ${seed}`);
  }
}

/**
 * Hashes integers into one uint32 seed for `new Rng(...)`. Order matters, and
 * seeds beyond 32 bits keep their high bits (they are folded in, not truncated).
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = fmix32((h ^ lo) + 0x9e3779b9);
    h = fmix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

/** Purpose tags, so the eval split and the batch order never share a random stream. */
export const SEED_PURPOSE = { split: 1, shuffle: 2 } as const;
