/**
 * bonsai's public API, for hand-written training loops and tools. Each folder's index.ts is
 * its public face; this file re-exports them.
 */
export { BonsaiError, BonsaiErrors } from './errors.ts';
export { Rng, type RngState } from './util/rng.ts';
export { initBackend, describeBackend, type BackendPreference, type BackendReport } from './backend/index.ts';
export * from './models/index.ts';
export { createTokenizer, type Tokenizer, type TokenizerKind } from './models/tokenizer.ts';
export * from './data/index.ts';
export * from './gradients/index.ts';
export * from './trainer/index.ts';
export * from './probes/index.ts';
export * from './rewards/index.ts';
export {
  loadRecipe,
  parseRecipe,
  loadEditRecipe,
  parseEditRecipe,
  recipeJsonSchema,
  resolvedRecipeYaml,
  flattenRecipe,
  type Recipe,
  type EditRecipe,
} from './recipe/index.ts';
export { createTracker, NullTracker, LocalMlflowTracker, flattenParams, type Tracker } from './tracking/index.ts';
export * from './distributed/index.ts';
export * from './server/index.ts';
