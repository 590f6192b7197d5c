/**
 * The recipe schema: one zod schema per section, written once. Help text lives here in
 * `.describe()` and feeds the JSON Schema; defaults live here too, so a parsed recipe is
 * complete and nothing downstream re-applies a default. Keys mirror the YAML (snake_case).
 */
import { z } from 'zod';
import { gradientsSchema, trainerSchema } from './components.ts';
import { freezeSchema, interventionsSchema } from './design.ts';
import { probesSchema, rewardsSchema } from './rl.ts';
import { raySchema } from './ray-schema.ts';
import { sweepSchemaOf } from './sweep-schema.ts';
import { existingDirectory, existingFile, PATH_NOTE, nonNegativeInt, positiveInt } from './fields.ts';

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

/** Architecture of a model trained from scratch. */
export const modelConfigSchema = z
  .strictObject({
    vocab_size: positiveInt().optional().describe("Vocabulary size. Omitted: the tokenizer's vocabulary size."),
    d_model: positiveInt().describe('Width of the residual stream.'),
    n_layers: positiveInt().describe('Number of transformer blocks.'),
    n_heads: positiveInt().describe('Attention heads per block; must divide d_model.'),
    d_mlp: positiveInt().optional().describe('Hidden width of each MLP. Default: 4 * d_model.'),
    n_ctx: positiveInt().describe('Longest sequence the model accepts (positional embeddings).'),
    tied_embeddings: z.boolean().default(true).describe('Share the token embedding with the unembedding.'),
    layer_norm_eps: z.number().positive().default(1e-5).describe('Epsilon of every layer norm.'),
    init_std: z.number().positive().default(0.02).describe('Standard deviation of the normal weight init.'),
  })
  // `when` lets the check run even if other fields are broken, so all errors surface at once.
  .refine((c) => c.d_model % c.n_heads === 0, {
    path: ['n_heads'],
    when: (p) => z.object({ d_model: positiveInt(), n_heads: positiveInt() }).safeParse(p.value).success,
    error: (iss) => {
      const { d_model, n_heads } = iss.input as { d_model: number; n_heads: number };
      return `n_heads (${n_heads}) must divide d_model (${d_model})`;
    },
  })
  // Rebuilt rather than spread so d_mlp keeps its place in the resolved recipe's key order.
  .transform(({ n_ctx, tied_embeddings, layer_norm_eps, init_std, ...sizes }) => ({
    ...sizes,
    d_mlp: sizes.d_mlp ?? 4 * sizes.d_model,
    n_ctx,
    tied_embeddings,
    layer_norm_eps,
    init_std,
  }))
  .describe('A fresh model with this architecture.');

/** Where the weights come from: exactly one of `config` (fresh), `checkpoint` (saved) or `hf_gpt2`. */
const initSchema = z
  .strictObject({
    config: modelConfigSchema.optional(),
    checkpoint: existingDirectory().optional().describe(`A checkpoint directory written by bonsai. ${PATH_NOTE}`),
    hf_gpt2: existingDirectory()
      .optional()
      .describe(`A Hugging Face GPT-2 folder (config.json + model.safetensors, e.g. from \`huggingface-cli download gpt2\`); implies tokenizer gpt2. ${PATH_NOTE}`),
  })
  .refine((i) => [i.config, i.checkpoint, i.hf_gpt2].filter((v) => v !== undefined).length === 1, {
    message: 'needs exactly one of "config" (a fresh model), "checkpoint" (a saved one) or "hf_gpt2" (Hugging Face GPT-2 weights)',
  })
  .transform((i) => (i.config ? { config: i.config } : i.checkpoint ? { checkpoint: i.checkpoint } : { hf_gpt2: i.hf_gpt2! }))
  .describe('Where the initial weights come from: exactly one of config, checkpoint or hf_gpt2.');

export const modelSchema = z
  .strictObject({
    // No zod default: an omitted tokenizer follows init (gpt2 for hf_gpt2), which the transform decides.
    tokenizer: z.enum(['byte', 'gpt2']).optional().describe("Tokenizer: byte (one token per byte) or gpt2 (GPT-2's BPE). Default: gpt2 with init.hf_gpt2, else byte."),
    init: initSchema,
  })
  .refine((m) => !(m.tokenizer === 'byte' && 'hf_gpt2' in m.init && m.init.hf_gpt2), {
    path: ['tokenizer'],
    message: 'tokenizer byte cannot be used with init.hf_gpt2: GPT-2 weights need the gpt2 tokenizer (omit tokenizer or set it to gpt2)',
  })
  .transform(({ tokenizer, init }) => ({ tokenizer: tokenizer ?? ('hf_gpt2' in init && init.hf_gpt2 ? 'gpt2' : 'byte'), init }))
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

const trackingSchema = z
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

/**
 * The whole recipe. `defaultName` is run.name when the recipe does not set one; the loader
 * passes the file's basename. Cross-section checks live here, beside the fields they relate.
 */
export function recipeSchemaFor(defaultName: string) {
  return z
    .strictObject({
      run: runSchema(defaultName),
      backend: z
        .enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'])
        .default('auto')
        .describe('TensorFlow.js backend; auto tries tensorflow-gpu, tensorflow, wasm, cpu in that order.'),
      model: modelSchema,
      data: dataSchema,
      trainer: trainerSchema,
      gradients: gradientsSchema,
      interventions: interventionsSchema,
      freeze: freezeSchema,
      probes: probesSchema,
      rewards: rewardsSchema,
      checkpoint: checkpointSchema,
      tracking: trackingSchema,
      sample: sampleSchema.optional(),
      ray: raySchema,
      sweep: sweepSchemaOf((): z.ZodType => recipeSchema),
    })
    .refine((r) => r.data.seq_len! <= r.model.init.config!.n_ctx, {
      path: ['data', 'seq_len'],
      when: (p) => seqLenAndContext.safeParse(p.value).success,
      error: (iss) => {
        const { data, model } = iss.input as z.infer<typeof seqLenAndContext>;
        return `seq_len (${data.seq_len}) must be <= model.init.config.n_ctx (${model.init.config.n_ctx})`;
      },
    })
    .superRefine(checkRl)
    .describe('A bonsai recipe: everything one training run needs.');
}

/**
 * RL cross-section checks: an RL run needs rewards, and every probe a reward or the
 * intervention names must be in `probes`. Skipped while those sections are themselves
 * invalid (their own errors are already reported).
 */
function checkRl(r: { trainer: { kind: string; intervention?: { probe: string } }; probes: Array<{ name: string }>; rewards: Array<{ kind: string; probe?: string }> }, ctx: z.RefinementCtx): void {
  if (r.trainer.kind === 'rl' && r.rewards.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['rewards'], message: 'an rl trainer needs at least one reward (e.g. { name: correct, kind: exact_match })' });
  }
  const probes = new Set(r.probes.map((p) => p.name));
  const known = [...probes].join(', ') || 'none';
  r.rewards.forEach((w, i) => {
    if (w.kind === 'probe' && !probes.has(w.probe!)) ctx.addIssue({ code: 'custom', path: ['rewards', i, 'probe'], message: `no probe named "${w.probe}" in probes (probes: ${known})` });
  });
  const iv = r.trainer.intervention;
  if (iv && !probes.has(iv.probe)) ctx.addIssue({ code: 'custom', path: ['trainer', 'intervention', 'probe'], message: `no probe named "${iv.probe}" in probes (probes: ${known})` });
}

/** The fields the seq_len check reads, so it runs whenever they are valid. */
const seqLenAndContext = z.object({
  data: z.object({ seq_len: positiveInt() }),
  model: z.object({ init: z.object({ config: z.object({ n_ctx: positiveInt() }) }) }),
});

/** The recipe schema, with run.name defaulting to "recipe" (for recipes not read from a file). */
export const recipeSchema = recipeSchemaFor('recipe');

/** A validated recipe with every default filled in. */
export type Recipe = z.output<typeof recipeSchema>;
/** A recipe as written: defaulted fields are optional. */
export type RecipeInput = z.input<typeof recipeSchema>;
/** The architecture of a fresh model. */
export type ModelConfig = z.output<typeof modelConfigSchema>;
/** The `trainer` section, one member per trainer kind. */
export type TrainerRecipe = Recipe['trainer'];
/** One gradient transform from the `gradients` list. */
export type GradientRecipe = Recipe['gradients'][number];
