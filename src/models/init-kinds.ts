/**
 * Model-init kinds (the recipe's `model.init`: exactly one of `config`, `checkpoint`, `hf`, or
 * `hf_gpt2`, an alias of `hf` that implies GPT-2's tokenizer): schema of each, and how each
 * tells the model's config without building the model, which is what every other check reads
 * hooks and parameter paths from. The builders (weights) are in init-build.ts.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BonsaiError } from '../errors.ts';
import { existingDirectory, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import type { EntryOf, KindSpec } from '../registry/kinds.ts';
import { decoderConfigFromHf, familyConfigFromRecipe, hfTokenizerKind, readHfConfigJson } from './families/config.ts';
import { FAMILIES, familyNamed } from './families/index.ts';
import { configFromStored, type LMConfig } from './lm-config.ts';
import { createTokenizer, type SpecialTokenRuleName, type Tokenizer, type TokenizerKind } from './tokenizer.ts';

const FAMILY_NAMES = FAMILIES.map((f) => f.name) as [string, ...string[]];
const DEFAULT_FAMILY = FAMILY_NAMES[0];

/** Architecture of a model trained from scratch. */
export const modelConfigSchema = z
  .strictObject({
    vocab_size: positiveInt().optional().describe("Vocabulary size. Omitted: the tokenizer's vocabulary size."),
    d_model: positiveInt().describe('Width of the residual stream.'),
    n_layers: positiveInt().describe('Number of transformer blocks.'),
    family: z.enum(FAMILY_NAMES).default(DEFAULT_FAMILY).describe(`Architecture: ${FAMILIES.map((f) => `${f.name} (${f.summary})`).join('; ')}. See docs/models.md.`),
    n_heads: positiveInt().describe('Attention (query) heads per block; must divide d_model unless head_dim is given.'),
    n_kv_heads: positiveInt().optional().describe(`Key/value heads (grouped-query attention; must divide n_heads). Default: n_heads. ${familiesReading('n_kv_heads')}`),
    head_dim: positiveInt().optional().describe(`Width of each head. Default: d_model / n_heads. ${familiesReading('head_dim')}`),
    rope_theta: z.number().positive().optional().describe(`RoPE base. Default 10000. ${familiesReading('rope_theta')}`),
    rotary_pct: z.number().gt(0).max(1).optional().describe(`Fraction of each head rotated by RoPE. Default 1. ${familiesReading('rotary_pct')}`),
    sliding_window: positiveInt().optional().describe(`Sliding-window attention: layers that use it see the last sliding_window positions (at most n_ctx). ${familiesReading('sliding_window')}`),
    d_mlp: positiveInt().optional().describe('Hidden width of each MLP. Default: 4 * d_model.'),
    n_ctx: positiveInt().describe('Longest sequence the model accepts (positional embeddings).'),
    tied_embeddings: z.boolean().default(true).describe('Share the token embedding with the unembedding.'),
    layer_norm_eps: z.number().positive().default(1e-5).describe('Epsilon of every layer norm.'),
    init_std: z.number().positive().default(0.02).describe('Standard deviation of the normal weight init.'),
  })
  // `when` lets the check run even if other fields are broken, so all errors surface at once.
  .refine((c) => c.head_dim !== undefined || c.d_model % c.n_heads === 0, {
    path: ['n_heads'],
    when: (p) => z.object({ d_model: positiveInt(), n_heads: positiveInt() }).safeParse(p.value).success,
    error: (iss) => {
      const { d_model, n_heads } = iss.input as { d_model: number; n_heads: number };
      return `n_heads (${n_heads}) must divide d_model (${d_model})`;
    },
  })
  .superRefine((c, ctx) => {
    const reads = familyNamed(c.family)!.recipeFields;
    const extra = FAMILY_FIELDS.filter((k) => c[k] !== undefined && !reads.includes(k));
    for (const k of extra) ctx.addIssue({ code: 'custom', path: [k], message: `${k} does not apply to family ${c.family}` });
    if (c.n_kv_heads !== undefined && c.n_heads % c.n_kv_heads !== 0) ctx.addIssue({ code: 'custom', path: ['n_kv_heads'], message: `n_kv_heads (${c.n_kv_heads}) must divide n_heads (${c.n_heads})` });
    if (c.sliding_window !== undefined && c.sliding_window > c.n_ctx) ctx.addIssue({ code: 'custom', path: ['sliding_window'], message: `sliding_window (${c.sliding_window}) is larger than n_ctx (${c.n_ctx}); a window that never binds is a mistake` });
  })
  // Rebuilt rather than spread so d_mlp keeps its place in the resolved recipe's key order;
  // the family fields appear only for a family other than the default, so GPT-2 recipes resolve as before.
  .transform(({ family, n_kv_heads, head_dim, rope_theta, rotary_pct, sliding_window, n_ctx, tied_embeddings, layer_norm_eps, init_std, ...sizes }) => {
    const reads = familyNamed(family)!.recipeFields;
    const defaults = { n_kv_heads: n_kv_heads ?? sizes.n_heads, head_dim: head_dim ?? sizes.d_model / sizes.n_heads, rope_theta: rope_theta ?? 10000, rotary_pct: rotary_pct ?? 1, sliding_window };
    const own = Object.fromEntries(FAMILY_FIELDS.filter((k) => reads.includes(k) && defaults[k] !== undefined).map((k) => [k, defaults[k]]));
    return {
      ...(family === DEFAULT_FAMILY ? {} : { family }),
      ...sizes,
      d_mlp: sizes.d_mlp ?? 4 * sizes.d_model,
      n_ctx,
      tied_embeddings,
      layer_norm_eps,
      init_std,
      ...own,
    };
  })
  .describe('A fresh model with this architecture.');

/** The recipe fields only some families read (each family module lists its own). */
const FAMILY_FIELDS = ['n_kv_heads', 'head_dim', 'rope_theta', 'rotary_pct', 'sliding_window'] as const;

/** "Read by: …" for a field's help text. */
function familiesReading(field: (typeof FAMILY_FIELDS)[number]): string {
  return `Read by ${FAMILIES.filter((f) => f.recipeFields.includes(field)).map((f) => f.name).join(', ')}.`;
}

/** A model-init kind: its schema, and the config of the model it gives (throws a BonsaiError when it cannot tell). */
export interface InitKind<S extends z.ZodType> extends KindSpec<S> {
  configOf(value: z.output<S>, tokenizer: Tokenizer): { config: LMConfig; tokenizer?: TokenizerKind };
  /** The tokenizer this kind implies when the recipe names none (a function: it depends on the value, e.g. a directory's files). */
  impliesTokenizer?: TokenizerKind | ((value: z.output<S>) => TokenizerKind);
  /** The directory that holds the model's tokenizer files (for tokenizer `hf`), when this kind has one. */
  tokenizerDir?(value: z.output<S>): string;
}

const initKind = <S extends z.ZodType>(k: InitKind<S>) => k;

/** Every model-init kind. */
export const initKinds = {
  config: initKind({
    schema: modelConfigSchema,
    configOf: (c, tokenizer) => ({ config: configOf(c, tokenizer) }),
  }),
  checkpoint: initKind({
    schema: existingDirectory().describe(`A checkpoint directory written by bonsai. ${PATH_NOTE}`),
    configOf(dir) {
      let meta: { model?: unknown; tokenizer?: TokenizerKind };
      try {
        meta = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      } catch {
        throw new BonsaiError(`${dir} holds no readable config.json; is it a checkpoint directory written by bonsai?`);
      }
      if (!meta.model) throw new BonsaiError(`${dir}/config.json has no model config; is it a checkpoint directory written by bonsai?`);
      return { config: configFromStored(meta.model, join(dir, 'config.json')), tokenizer: meta.tokenizer };
    },
    // A checkpoint of a run with tokenizer hf carries a copy of its tokenizer files.
    tokenizerDir: (dir) => dir,
  }),
  hf: initKind({
    schema: existingDirectory().describe(
      `A Hugging Face model directory of a family bonsai implements (${FAMILIES.map((f) => f.modelTypes.join('/')).join(', ')}; docs/models.md): config.json with model.safetensors or a sharded model.safetensors.index.json, and tokenizer.json. The context is max_position_embeddings. Implies tokenizer hf (the directory's tokenizer.json and chat_template), or GPT-2's BPE for a GPT-2 folder without tokenizer.json; another tokenizer must fit the model's vocabulary. ${PATH_NOTE}`,
    ),
    impliesTokenizer: hfTokenizerKind,
    tokenizerDir: (dir) => dir,
    configOf: (dir, tokenizer) => ({ config: hfConfigOf(dir, tokenizer) }),
  }),
  hf_gpt2: initKind({
    schema: existingDirectory().describe(`A Hugging Face GPT-2 folder (config.json + model.safetensors, e.g. from \`huggingface-cli download gpt2\`): the same as hf, with GPT-2's tokenizer implied. ${PATH_NOTE}`),
    impliesTokenizer: 'gpt2',
    configOf: (dir, tokenizer) => ({ config: hfConfigOf(dir, tokenizer), tokenizer: 'gpt2' }),
  }),
};

/** An `init.hf` directory's config, checked against the recipe's tokenizer (its ids must all embed). */
function hfConfigOf(dir: string, tokenizer: Tokenizer): LMConfig {
  const file = join(dir, 'config.json');
  const config = decoderConfigFromHf(readHfConfigJson(dir), file);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new BonsaiError(`vocab_size (${config.vocabSize}) is smaller than the ${tokenizer.kind} tokenizer's ${tokenizer.vocabSize} ids: the tokenizer would emit ids the model has no embedding for`, { where: file });
  }
  return config;
}

/** A model-init kind's name. */
export type InitKindName = keyof typeof initKinds;

/** The parsed `model.init`: one kind's key and value. */
export type InitEntry = { [K in InitKindName]: { [P in K]: EntryOf<typeof initKinds, P> } & { [P in Exclude<InitKindName, K>]?: undefined } }[InitKindName];

/** The kind of a parsed `model.init`. */
export function initKindOf(init: InitEntry): InitKindName {
  return Object.keys(init)[0] as InitKindName;
}

/** The value of a parsed `model.init` under its kind. */
export function initValue(init: InitEntry): EntryOf<typeof initKinds> {
  return Object.values(init)[0] as EntryOf<typeof initKinds>;
}

const initNames = Object.keys(initKinds) as InitKindName[];

/** The `model.init` section: exactly one kind, as a key. */
export const initSchema = z
  .strictObject(Object.fromEntries(initNames.map((k) => [k, initKinds[k].schema.optional()])) as { [K in InitKindName]: z.ZodOptional<(typeof initKinds)[K]['schema']> })
  .refine((i) => initNames.filter((k) => i[k] !== undefined).length === 1, {
    message: `needs exactly one of "config" (a fresh model), "checkpoint" (a saved one), "hf" (a Hugging Face directory of any family bonsai implements) or "hf_gpt2" (hf with the GPT-2 tokenizer)`,
  })
  .transform((i) => {
    const kind = initNames.find((k) => i[k] !== undefined)!;
    return { [kind]: i[kind] } as InitEntry;
  })
  .describe('Where the initial weights come from: exactly one of config, checkpoint, hf or hf_gpt2.');

/**
 * The tokenizer a recipe's `model:` names. `hf` reads the files in the model's directory
 * (`init.hf`, or an `init.checkpoint` written by a run that used it, whose special-token
 * rule it keeps); byte and gpt2 need none. `rule` overrides the special-token rule (a
 * resumed run keeps its checkpoint's).
 */
export function recipeTokenizer(m: { tokenizer: TokenizerKind; init: InitEntry }, rule?: SpecialTokenRuleName): Tokenizer {
  const kind = initKindOf(m.init);
  const spec = initKinds[kind] as InitKind<z.ZodType>;
  if (m.tokenizer !== 'hf') return createTokenizer(m.tokenizer);
  if (!spec.tokenizerDir) throw new BonsaiError(`model.tokenizer hf reads tokenizer.json from the model's directory; model.init.${kind} has none`, { hint: 'use it with model.init.hf or model.init.checkpoint' });
  return createTokenizer('hf', spec.tokenizerDir(initValue(m.init)), rule);
}

/** The camelCase config of a fresh model, with the tokenizer's vocabulary filled in. */
export function configOf(c: z.output<typeof modelConfigSchema>, tokenizer: Tokenizer): LMConfig {
  const vocabSize = c.vocab_size ?? tokenizer.vocabSize;
  if (vocabSize < tokenizer.vocabSize) {
    throw new BonsaiError(`model.init.config.vocab_size (${vocabSize}) is smaller than the ${tokenizer.kind} tokenizer's vocabulary (${tokenizer.vocabSize})`);
  }
  return familyConfigFromRecipe({ ...c, family: c.family ?? DEFAULT_FAMILY, vocab_size: vocabSize });
}
