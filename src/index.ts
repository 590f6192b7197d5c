/** bonsai's public API. Each folder's index.ts is its public face; this re-exports them. */
export { BonsaiError, BonsaiErrors } from './errors.ts';
export { Rng } from './util/rng.ts';
