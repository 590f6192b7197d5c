/**
 * The recipe schema: one zod schema per section, written once. Help text lives here in
 * `.describe()` and feeds the JSON Schema; defaults live here too, so a parsed recipe is
 * complete and nothing downstream re-applies a default. Keys mirror the YAML (snake_case).
 */
import { z } from 'zod';
import { gradientsSchema } from '../gradients/kinds.ts';
import { freezeSchema } from '../gradients/freeze-kinds.ts';
import { interventionsSchema } from '../gradients/intervention-kinds.ts';
import { initKindOf, initKinds, initSchema, modelConfigSchema } from '../models/init-kinds.ts';
import { tokenizerKinds, type TokenizerKind } from '../models/tokenizer.ts';
import { rewardsSchema } from '../rewards/kinds.ts';
import { trainerSchema } from '../trainer/kinds/trainer.ts';
import { evalsSchema } from '../trainer/kinds/evals.ts';
import { jobKinds, trainingRecipeJobs, type TrainingRecipeJob } from './jobs.ts';
import { loraSchema } from '../lora/kinds.ts';
import { probesSchema } from '../probes/kinds.ts';
import { raySchema } from './ray-schema.ts';
import { memorySchema } from './memory-schema.ts';
import { backendSchema } from './backend-schema.ts';

export { backendSchema };
import { sweepSchemaOf } from './sweep-schema.ts';
import { existingFile, PATH_NOTE, nonNegativeInt, positiveInt } from '../registry/fields.ts';

export { modelConfigSchema };

/** The `run` section. Its name defaults to the recipe's file name, which only the loader knows. */
export function runSchema(defaultName: string) {
  return z
    .strictObject({
      name: z.string().min(1).optional().describe("Run name. Default: the recipe file's name without its extension."),
      seed: nonNegativeInt().default(0).describe('Seed for weight init, shuffling and sampling; same seed, same run.'),
      out_dir: z.string().min(1).optional().describe(`Where checkpoints and outputs go. Default: runs/<name>. ${PATH_NOTE}`),
    })
    .transform(({ name = defaultName, seed, out_dir = `runs/${name}` }) => ({ name, seed, out_dir }))
    .prefault({})
    .describe('Identity of the run.');
}

export const modelSchema = z
  .strictObject({
    // No zod default: an omitted tokenizer follows init (gpt2 for hf_gpt2), which the transform decides.
    tokenizer: z
      .enum(Object.keys(tokenizerKinds) as [TokenizerKind, ...TokenizerKind[]])
      .optional()
      .describe(`Tokenizer: ${Object.entries(tokenizerKinds).map(([k, t]) => `${k} (${t.describe})`).join(', ')}. Default: gpt2 with init.hf_gpt2, hf with init.hf (gpt2 for a GPT-2 folder without tokenizer.json), else byte.`),
    init: initSchema,
  })
  .refine((m) => !(m.tokenizer === 'byte' && 'hf_gpt2' in m.init), {
    path: ['tokenizer'],
    message: 'tokenizer byte cannot be used with init.hf_gpt2: GPT-2 weights need the gpt2 tokenizer (omit tokenizer or set it to gpt2)',
  })
  .refine((m) => !(m.tokenizer === 'hf' && ('config' in m.init || 'hf_gpt2' in m.init)), {
    path: ['tokenizer'],
    message: "tokenizer hf reads tokenizer.json from the model's directory: it goes with init.hf, or init.checkpoint of a run that used it",
  })
  .transform(({ tokenizer, init }) => {
    const kind = initKinds[initKindOf(init)] as { impliesTokenizer?: TokenizerKind | ((v: unknown) => TokenizerKind) };
    const implied = typeof kind.impliesTokenizer === 'function' ? kind.impliesTokenizer(Object.values(init)[0]) : kind.impliesTokenizer;
    return { tokenizer: tokenizer ?? implied ?? ('byte' as TokenizerKind), init };
  })
  .describe('The policy model.');

export const datasetSchema = z.strictObject({
  format: z.enum(['text', 'jsonl']).describe('text: plain text; jsonl: one {"prompt", "completion"} object per line.'),
  path: existingFile().describe(`Data file. ${PATH_NOTE}`),
});

const dataSchema = z
  .strictObject({
    train: datasetSchema.describe('Training data.'),
    eval: datasetSchema.optional().describe('Eval data. Omitted: eval_fraction of train is held out.'),
    eval_fraction: z.number().min(0).max(0.5).default(0.05).describe('Share of train held out for eval when eval is absent.'),
    seq_len: positiveInt().optional().describe("Tokens per training sequence. Omitted: the model's n_ctx; never above it."),
  })
  .describe('Training and eval data.');

const checkpointSchema = z
  .strictObject({
    every: nonNegativeInt().default(0).describe('Save every this many steps; 0 saves only at the end.'),
    keep: positiveInt().default(3).describe('Most recent checkpoints kept on disk.'),
  })
  .prefault({})
  .describe('Checkpointing into out_dir.');

export const trackingSchema = z
  .strictObject({
    uri: z.string().min(1).default('./mlruns').describe('MLflow tracking URI: a directory or http(s)://host:port; "none" disables tracking.'),
    experiment: z.string().min(1).default('bonsai').describe('MLflow experiment the run is logged under.'),
  })
  .prefault({})
  .describe('Experiment tracking (MLflow).');

const sampleSchema = z
  .strictObject({
    prompt: z.string().describe('Text the sample continues.'),
    max_new_tokens: positiveInt().default(200).describe('Tokens generated per sample.'),
    temperature: z.number().nonnegative().default(0.8).describe('Sampling temperature; 0 is greedy.'),
    top_k: positiveInt().optional().describe('Sample only among the k most likely tokens.'),
    top_p: z.number().gt(0).max(1).optional().describe('Sample only among the most likely tokens whose probabilities sum to top_p.'),
  })
  .describe('A sample printed and logged at each eval.');

/** The recipe's sections, each with its own schema. */
function sectionsFor(defaultName: string) {
  return {
    run: runSchema(defaultName),
    backend: backendSchema,
    job: z
      .enum(trainingRecipeJobs)
      .optional()
      .describe(`What the recipe is for: ${trainingRecipeJobs.map((j) => `${j} (${jobKinds[j].describe})`).join(', ')}. Default: trainer.kind.`),
    model: modelSchema,
    data: dataSchema.optional(),
    trainer: trainerSchema.optional(),
    gradients: gradientsSchema,
    interventions: interventionsSchema,
    freeze: freezeSchema,
    lora: loraSchema.optional(),
    probes: probesSchema,
    rewards: rewardsSchema,
    evals: evalsSchema,
    checkpoint: checkpointSchema,
    memory: memorySchema,
    tracking: trackingSchema,
    sample: sampleSchema.optional(),
    ray: raySchema,
    sweep: sweepSchemaOf((): z.ZodType => recipeSchema),
  };
}

/** The recipe's sections by name, so the checks can use each section that parses on its own (recipe/check.ts). */
export function recipeSections(defaultName: string): Record<string, z.ZodType> {
  return sectionsFor(defaultName);
}

/**
 * The whole recipe. `defaultName` is run.name when the recipe does not set one; the loader
 * passes the file's basename. Cross-section checks that need no model live here; those that
 * read the model's config are the components' checks (recipe/check.ts).
 */
export function recipeSchemaFor(defaultName: string) {
  return z
    .strictObject(sectionsFor(defaultName))
    .refine((r) => r.data!.seq_len! <= (r.model.init as { config: { n_ctx: number } }).config.n_ctx, {
      path: ['data', 'seq_len'],
      when: (p) => seqLenAndContext.safeParse(p.value).success,
      error: (iss) => {
        const { data, model } = iss.input as z.infer<typeof seqLenAndContext>;
        return `seq_len (${data.seq_len}) must be <= model.init.config.n_ctx (${model.init.config.n_ctx})`;
      },
    })
    .superRefine(checkJob)
    .transform(({ run, backend, job, trainer, ...rest }) => ({ run, backend, job: job ?? trainer?.kind, trainer, ...rest }) as AnyRecipe)
    .describe('A bonsai recipe: everything one job (training, probe training, ...) needs.');
}

/**
 * The job and its sections agree: a job that runs a trainer has a `trainer` of its kind and
 * the sections it needs; one that does not has no `trainer`. With no `job`, the trainer's
 * kind is the job.
 */
function checkJob(r: { job?: TrainingRecipeJob; trainer?: { kind: string }; [section: string]: unknown }, ctx: z.RefinementCtx): void {
  const job = r.job ?? (r.trainer?.kind as TrainingRecipeJob | undefined);
  if (job === undefined) {
    ctx.addIssue({ code: 'custom', path: ['trainer'], message: `missing required field (or say what the recipe is for: job: ${trainingRecipeJobs.join(' | ')})` });
    return;
  }
  const spec = jobKinds[job];
  if (spec.trainer === undefined && r.trainer) {
    ctx.addIssue({ code: 'custom', path: ['trainer'], message: `a ${job} job has no trainer section; remove it, or set job to one that trains (${trainingRecipeJobs.filter((j) => jobKinds[j].trainer).join(', ')})` });
  } else if (spec.trainer !== undefined && r.trainer && r.trainer.kind !== spec.trainer) {
    ctx.addIssue({ code: 'custom', path: ['trainer', 'kind'], message: `job ${job} runs trainer kind ${spec.trainer}, got ${r.trainer.kind}` });
  }
  for (const section of spec.needs) {
    if (r[section] === undefined) ctx.addIssue({ code: 'custom', path: [section], message: `missing required field (a ${job} job needs it)` });
  }
}

/** The fields the seq_len check reads, so it runs whenever they are valid. */
const seqLenAndContext = z.object({
  data: z.object({ seq_len: positiveInt() }),
  model: z.object({ init: z.object({ config: z.object({ n_ctx: positiveInt() }) }) }),
});

/** The recipe schema, with run.name defaulting to "recipe" (for recipes not read from a file). */
export const recipeSchema = recipeSchemaFor('recipe');

type Parsed = z.output<z.ZodObject<ReturnType<typeof sectionsFor>, z.core.$strict>>;
type Common = Omit<Parsed, 'job' | 'trainer' | 'data'>;
type TrainerSection = NonNullable<Parsed['trainer']>;

/** A validated training recipe (job sft or rl) with every default filled in. */
export type Recipe = Common & { job: 'sft' | 'rl'; trainer: TrainerSection; data: NonNullable<Parsed['data']> };
/** A validated recipe of a job that runs no trainer (job probe). */
export type ProbeJobRecipe = Common & { job: 'probe'; trainer?: undefined; data?: Parsed['data'] };
/** Any validated recipe; narrow on `job`. */
export type AnyRecipe = Recipe | ProbeJobRecipe;
/** A recipe as written: defaulted fields are optional. */
export type RecipeInput = z.input<typeof recipeSchema>;
/** The architecture of a fresh model. */
export type ModelConfig = z.output<typeof modelConfigSchema>;
/** The `trainer` section, one member per trainer kind. */
export type TrainerRecipe = TrainerSection;
/** One gradient transform from the `gradients` list. */
export type GradientRecipe = Recipe['gradients'][number];
