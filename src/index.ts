/**
 * bonsai's public API (`import … from 'bonsai'`), for hand-written training loops and tools.
 * Each folder's index.ts is its public face; this file re-exports them. The services around
 * training (MLflow server client, Ray, the reward server, the page) are in `bonsai/node`
 * (src/node.ts).
 */
export { BonsaiError, BonsaiErrors } from './errors.ts';
export { Rng, type RngState } from './util/rng.ts';
export { initBackend, describeBackend, type BackendPreference, type BackendReport } from './backend/index.ts';
export * from './models/index.ts';
export { createTokenizer, asHfTokenizer, endOfSequenceIds, tokenizerFiles, type Tokenizer, type TokenizerKind } from './models/tokenizer.ts';
export { recipeTokenizer } from './models/init-kinds.ts';
export * from './data/index.ts';
export * from './gradients/index.ts';
export * from './trainer/index.ts';
export * from './probes/index.ts';
export * from './diff/index.ts';
export * from './rewards/index.ts';
export * from './lora/index.ts';
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
