/**
 * Recipes: the YAML file that describes a run. Load one with `loadRecipe` (every error
 * at once, each with `file:line:col`), export the JSON Schema for editors, and record
 * the resolved recipe with a run.
 */
export { loadRecipe, parseRecipe, loadEditRecipe, parseEditRecipe, type LoadOptions } from './load.ts';
export { editRecipeSchemaFor, kfacEditSchema, type EditRecipe } from './edit-schema.ts';
export {
  recipeSchema,
  recipeSchemaFor,
  modelConfigSchema,
  type Recipe,
  type RecipeInput,
  type ModelConfig,
  type TrainerRecipe,
  type GradientRecipe,
} from './schema.ts';
export { trainerKinds, gradientKinds } from './components.ts';
export { RecipeIssue } from './issues.ts';
export { recipeJsonSchema } from './jsonschema.ts';
export { resolvedRecipeYaml, flattenRecipe } from './resolved.ts';
