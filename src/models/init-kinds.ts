/**
 * Model-init kinds (the recipe's `model.init`: exactly one of `config`, `checkpoint`,
 * `hf_gpt2`, `hf`): schema of each, and how each tells the model's config without building
 * the model, which is what every other check reads hooks and parameter paths from. The
 * builders (weights) are in init-build.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BonsaiError } from '../errors.ts';
import { existingDirectory, PATH_NOTE, positiveInt } from '../registry/fields.ts';
import type { EntryOf, KindSpec } from '../registry/kinds.ts';
import { modelConfig } from './config.ts';
import { decoderConfigFromHf, familyConfigFromRecipe } from './families/config.ts';
import { configFromStored, type LMConfig } from './lm-config.ts';
import { modelConfigFromHf } from './hf-gpt2-config.ts';
import { createTokenizer, type SpecialTokenRuleName, type Tokenizer, type TokenizerKind } from './tokenizer.ts';

/** Architecture of a model trained from scratch. */
export const modelConfigSchema = z
  .strictObject({
    vocab_size: positiveInt().optional().describe("Vocabulary size. Omitted: the tokenizer's vocabulary size."),
    d_model: positiveInt().describe('Width of the residual stream.'),
    n_layers: positiveInt().describe('Number of transformer blocks.'),
    family: z.enum(['gpt2', 'llama', 'mistral', 'qwen2', 'qwen3', 'gpt_neox']).default('gpt2').describe('Architecture: gpt2 (learned positions, LayerNorm, GELU) or a Hugging Face family (llama, mistral, qwen2, qwen3: RMSNorm, RoPE, SwiGLU; gpt_neox: parallel residual, partial rotary). See docs/models.md.'),
    n_heads: positiveInt().describe('Attention (query) heads per block; must divide d_model unless head_dim is given.'),
    n_kv_heads: positiveInt().optional().describe('Key/value heads (grouped-query attention; must divide n_heads). Default: n_heads. Not for gpt2 or gpt_neox.'),
    head_dim: positiveInt().optional().describe('Width of each head. Default: d_model / n_heads. Not for gpt2 or gpt_neox.'),
    rope_theta: z.number().positive().optional().describe('RoPE base. Default 10000. Not for gpt2.'),
    rotary_pct: z.number().gt(0).max(1).optional().describe('Fraction of each head rotated by RoPE (gpt_neox only). Default 1.'),
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
    const gpt2Only = c.family === 'gpt2';
    const extra = (['n_kv_heads', 'head_dim', 'rope_theta', 'rotary_pct'] as const).filter((k) => c[k] !== undefined && (gpt2Only || (k === 'rotary_pct' && c.family !== 'gpt_neox') || ((k === 'n_kv_heads' || k === 'head_dim') && c.family === 'gpt_neox')));
    for (const k of extra) ctx.addIssue({ code: 'custom', path: [k], message: `${k} does not apply to family ${c.family}` });
    if (c.n_kv_heads !== undefined && c.n_heads % c.n_kv_heads !== 0) ctx.addIssue({ code: 'custom', path: ['n_kv_heads'], message: `n_kv_heads (${c.n_kv_heads}) must divide n_heads (${c.n_heads})` });
  })
  // Rebuilt rather than spread so d_mlp keeps its place in the resolved recipe's key order;
  // the family fields appear only for a family other than gpt2, so GPT-2 recipes resolve as before.
  .transform(({ family, n_kv_heads, head_dim, rope_theta, rotary_pct, n_ctx, tied_embeddings, layer_norm_eps, init_std, ...sizes }) => ({
    ...(family === 'gpt2' ? {} : { family }),
    ...sizes,
    d_mlp: sizes.d_mlp ?? 4 * sizes.d_model,
    n_ctx,
    tied_embeddings,
    layer_norm_eps,
    init_std,
    ...(family === 'gpt2' ? {} : { n_kv_heads: n_kv_heads ?? sizes.n_heads, ...(family === 'gpt_neox' ? {} : { head_dim: head_dim ?? sizes.d_model / sizes.n_heads }), rope_theta: rope_theta ?? 10000, ...(family === 'gpt_neox' ? { rotary_pct: rotary_pct ?? 1 } : {}) }),
  }))
  .describe('A fresh model with this architecture.');

/** A model-init kind: its schema, and the config of the model it gives (throws a BonsaiError when it cannot tell). */
export interface InitKind<S extends z.ZodType> extends KindSpec<S> {
  configOf(value: z.output<S>, tokenizer: Tokenizer): { config: LMConfig; tokenizer?: TokenizerKind };
  /** The tokenizer this kind implies when the recipe names none. */
  impliesTokenizer?: TokenizerKind;
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
  hf_gpt2: initKind({
    schema: existingDirectory().describe(`A Hugging Face GPT-2 folder (config.json + model.safetensors, e.g. from \`huggingface-cli download gpt2\`); implies tokenizer gpt2. ${PATH_NOTE}`),
    impliesTokenizer: 'gpt2',
    configOf(dir) {
      const { file, raw } = readConfigJson(dir);
      return { config: modelConfigFromHf(raw, file), tokenizer: 'gpt2' };
    },
  }),
  hf: initKind({
    schema: existingDirectory().describe(
      `A Hugging Face model directory of a family bonsai implements (llama incl. SmolLM2, mistral, qwen2/qwen2.5, qwen3, gpt_neox/Pythia; docs/models.md): config.json with model.safetensors or a sharded model.safetensors.index.json, and tokenizer.json. The context is max_position_embeddings. Implies tokenizer hf (the directory's tokenizer.json and chat_template); another tokenizer must fit the model's vocabulary. ${PATH_NOTE}`,
    ),
    impliesTokenizer: 'hf',
    tokenizerDir: (dir) => dir,
    configOf(dir) {
      const { file, raw } = readConfigJson(dir);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BonsaiError(`${file}: not a JSON object`);
      return { config: decoderConfigFromHf(raw as Record<string, unknown>, file) };
    },
  }),
};

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
    message: `needs exactly one of "config" (a fresh model), "checkpoint" (a saved one) or "hf_gpt2" (Hugging Face GPT-2 weights), or "hf" (a Hugging Face Llama/Mistral/Qwen/GPT-NeoX directory)`,
  })
  .transform((i) => {
    const kind = initNames.find((k) => i[k] !== undefined)!;
    return { [kind]: i[kind] } as InitEntry;
  })
  .describe('Where the initial weights come from: exactly one of config, checkpoint, hf_gpt2 or hf.');

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
  if (c.family !== undefined) return familyConfigFromRecipe({ ...c, family: c.family, vocab_size: vocabSize });
  return modelConfig({
    vocabSize,
    dModel: c.d_model,
    nLayers: c.n_layers,
    nHeads: c.n_heads,
    dMlp: c.d_mlp,
    nCtx: c.n_ctx,
    tiedEmbeddings: c.tied_embeddings,
    layerNormEps: c.layer_norm_eps,
    initStd: c.init_std,
  });
}

/** A Hugging Face directory's config.json, parsed (not yet checked: each kind reads its own fields). */
function readConfigJson(dir: string): { file: string; raw: unknown } {
  const file = join(dir, 'config.json');
  try {
    return { file, raw: JSON.parse(readFileSync(file, 'utf8')) };
  } catch {
    throw new BonsaiError(`${file} is missing or not JSON`);
  }
}
