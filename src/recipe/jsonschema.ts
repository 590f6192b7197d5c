/**
 * The recipe schema as JSON Schema, for editors: save it as `recipe.schema.json` and put
 * `# yaml-language-server: $schema=./recipe.schema.json` at the top of a recipe to get
 * completion, hover help (the `.describe()` texts) and inline errors while writing it.
 */
import { z } from 'zod';
import { ownRecipeSchemas } from './job-schemas.ts';
import { jobKinds, trainingRecipeJobs } from './jobs.ts';
import { recipeSchema } from './schema.ts';

/**
 * JSON Schema (draft-07, the draft yaml-language-server supports best) of a recipe as
 * written: the input side, so defaulted fields are optional and carry their defaults.
 * Checks that need code (files exist, n_heads divides d_model) are left to the loader.
 * A recipe whose `job` has a schema of its own (edit, sae: job-schemas.ts) is described by
 * it; every other recipe is a training recipe (schema.ts).
 */
export function recipeJsonSchema(): Record<string, unknown> {
  const { $schema, ...training } = inputJsonSchema(recipeSchema);
  // Which sections are required depends on the job: a trainer (which needs data), or a job that runs none.
  const trainerless = trainingRecipeJobs.filter((j) => jobKinds[j].trainer === undefined);
  const anyOf = [{ required: ['trainer'] }, { required: ['job'], properties: { job: { enum: trainerless } } }];
  let body: Record<string, unknown> = { ...training, anyOf, dependencies: { trainer: ['data'] } };
  for (const [job, schemaFor] of Object.entries(ownRecipeSchemas).reverse()) {
    const { $schema: _, ...own } = inputJsonSchema(schemaFor('recipe'));
    body = { if: { properties: { job: { const: job } }, required: ['job'] }, then: own, else: body };
  }
  return { $schema, title: 'bonsai recipe', ...body };
}

/** `schema`'s input side as draft-07 JSON Schema, without the noise editors do not need. */
function inputJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-7',
    // z.int() bounds every integer by the safe range; in an editor that is noise.
    override: ({ jsonSchema }) => {
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      // A kind union with one kind (the optimizer today) reads as that kind's object.
      const only = Array.isArray(jsonSchema.oneOf) && jsonSchema.oneOf.length === 1 ? (jsonSchema.oneOf[0] as Record<string, unknown>) : undefined;
      if (only) {
        delete jsonSchema.oneOf;
        Object.assign(jsonSchema, { ...only, ...jsonSchema });
      }
    },
  }) as Record<string, unknown>;
}
