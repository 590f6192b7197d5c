/**
 * Recipes: the YAML file that describes a run. Load one with `loadRecipe` (every error
 * at once, each with `file:line:col`), export the JSON Schema for editors, and record
 * the resolved recipe with a run.
 */
export { loadRecipe, loadAnyRecipe, parseRecipe, parseAnyRecipe, trainingRecipe, loadEditRecipe, parseEditRecipe, loadSaeRecipe, parseSaeRecipe, loadJobRecipe, type LoadOptions } from './load.ts';
export { checkRecipe } from './check.ts';
export { componentRegistry } from './components.ts';
export { jobKinds, type JobName } from './jobs.ts';
export { saeRecipeSchemaFor, type SaeRecipe } from './sae-schema.ts';
export type { Builders, CheckContext, KindSpec, KindTable } from '../registry/kinds.ts';
export { editRecipeSchemaFor, kfacEditSchema, type EditRecipe } from './edit-schema.ts';
export {
  recipeSchema,
  recipeSchemaFor,
  modelConfigSchema,
  type Recipe,
  type AnyRecipe,
  type ProbeJobRecipe,
  type RecipeInput,
  type ModelConfig,
  type TrainerRecipe,
  type GradientRecipe,
} from './schema.ts';
export { trainerKinds, gradientKinds } from './components.ts';
export { RecipeIssue } from './issues.ts';
export { recipeJsonSchema } from './jsonschema.ts';
export { resolvedRecipeYaml, flattenRecipe } from './resolved.ts';
