/**
 * The config any CausalLM carries (model.ts): the family-neutral dims every tool reads
 * (vocabSize, dModel, nLayers, nHeads, nKvHeads, dHead, dMlp, nCtx, tiedEmbeddings) and the
 * flags its family module set (families/family.ts). Checkpoints store it as `storedConfig`
 * gives it; `configFromStored` reads it back, including GPT-2 configs written before families
 * existed (no `family` field) and family configs written before the flags were split.
 */
import { BonsaiError } from '../errors.ts';
import type { DecoderConfig } from './families/family.ts';
import { modelConfig, type Gpt2ConfigInput } from './families/gpt2.ts';
import { familyNamed, familyNames, familyOf, FAMILIES } from './families/index.ts';

export type { Gpt2ConfigInput };

/** A registered family's name (families/index.ts). */
export type ModelFamily = string;

/** A model's config, any family. */
export type LMConfig = DecoderConfig;

/** The config as a checkpoint's config.json stores it. */
export function storedConfig(c: LMConfig): Record<string, unknown> {
  return familyOf(c).stored?.(c) ?? { ...c };
}

/** A stored config (checkpoint config.json's `model`) as an LMConfig; `where` names the file in errors. */
export function configFromStored(raw: unknown, where: string): LMConfig {
  if (!raw || typeof raw !== 'object') throw new BonsaiError(`${where}: model config missing or not an object`);
  const r = raw as Record<string, unknown>;
  const family = familyNamed(typeof r.family === 'string' ? r.family : FAMILIES[0]!.name);
  if (!family) throw new BonsaiError(`${where}: model family ${JSON.stringify(r.family)} unknown (known: ${familyNames().join(', ')})`);
  if (family.fromStored && (r.family === undefined || !('positions' in r))) return family.fromStored(r, where);
  return 'positions' in r ? (r as unknown as LMConfig) : upgradeStored(r);
}

/**
 * A family config stored before the flags were split (`mlp: 'swiglu' | 'gelu'`, `qkNorm`
 * a boolean, `qkvBias`/`denseBias`): the same model under today's flags.
 */
function upgradeStored(r: Record<string, unknown>): LMConfig {
  const { qkvBias, denseBias, qkNorm, mlp, ...rest } = r as Record<string, unknown> & { dHead: number };
  return {
    ...(rest as unknown as LMConfig),
    positions: 'rope',
    embedScale: 1,
    normPlusOne: false,
    normPlacement: 'pre',
    bias: { qkv: qkvBias === true, out: denseBias === true, mlp: denseBias === true, unembed: false },
    qkNorm: qkNorm === true ? 'head' : 'none',
    mlp: mlp === 'swiglu' ? { gated: true, act: 'silu' } : { gated: false, act: 'gelu' },
    attnScale: 1 / Math.sqrt(rest.dHead),
  };
}

/**
 * A config as the model classes take it: a full LMConfig as is, a GPT-2 given by its dims
 * alone (`{ vocabSize, dModel, nLayers, nHeads, nCtx }`, GPT-2's defaults for the rest), or a
 * stored form (configFromStored).
 */
export function asLMConfig(c: LMConfig | Gpt2ConfigInput): LMConfig {
  if (!('positions' in c)) return !('family' in c) || c.family === undefined ? modelConfig(c) : configFromStored(c, 'model config');
  const bad: string[] = [];
  for (const k of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'nKvHeads', 'dHead', 'dMlp', 'nCtx'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad.push(`${k} must be a positive integer (got ${c[k]})`);
  }
  if (c.nHeads % c.nKvHeads !== 0) bad.push(`nKvHeads (${c.nKvHeads}) must divide nHeads (${c.nHeads})`);
  if (!(c.normEps > 0)) bad.push(`normEps must be > 0 (got ${c.normEps})`);
  bad.push(...(familyOf(c).check?.(c) ?? []));
  if (bad.length) throw new BonsaiError(`invalid model config: ${bad.join('; ')}`);
  return c;
}

/** True when two configs describe the same architecture (so weights of one fit the other). */
export function sameArchitecture(a: LMConfig, b: LMConfig): boolean {
  const { initStd: _a, ...ra } = a;
  const { initStd: _b, ...rb } = b;
  return canonical(ra) === canonical(rb);
}

/** JSON with object keys sorted at every level, so key order does not matter. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** One line for error messages: the family and its dims. */
export function describeConfig(c: LMConfig): string {
  const family = c.family === FAMILIES[0]!.name ? '' : `${c.family}, `;
  const kv = c.nKvHeads !== c.nHeads ? ` (${c.nKvHeads} key/value)` : '';
  return `${family}vocab ${c.vocabSize}, d_model ${c.dModel}, ${c.nLayers} layers, ${c.nHeads} heads${kv}, d_mlp ${c.dMlp}, n_ctx ${c.nCtx}${c.tiedEmbeddings ? ', tied' : ', untied'}`;
}
