/**
 * The schema of every job's recipe, keyed by the job table (jobs.ts): the training recipe
 * (schema.ts) for sft, rl and probe; a schema of its own for edit and sae. A mapped type
 * over the jobs, so a job added to the table without a schema here does not compile. The
 * loader (load.ts) and the JSON Schema (jsonschema.ts) both read it.
 */
import type { z } from 'zod';
import { editRecipeSchemaFor } from './edit-schema.ts';
import type { OwnRecipeJob } from './jobs.ts';
import { saeRecipeSchemaFor } from './sae-schema.ts';

/** The schema of each job with a recipe of its own; `defaultName` is run.name when the recipe sets none. */
export const ownRecipeSchemas = {
  edit: editRecipeSchemaFor,
  sae: saeRecipeSchemaFor,
} as const satisfies { readonly [K in OwnRecipeJob]: (defaultName: string) => z.ZodType };
