import { BonsaiError } from '../errors.ts';

/**
 * Shape of a GPT-2-style decoder. camelCase here; recipes use snake_case. `family`,
 * `nKvHeads` and `dHead` are the family-neutral fields every CausalLM config has (model.ts);
 * for GPT-2 they are derived (nKvHeads = nHeads, dHead = dModel / nHeads), and checkpoints
 * store the config without them (lm-config.ts), exactly as before families existed.
 */
export interface ModelConfig {
  family: 'gpt2';
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** Always nHeads (GPT-2 has no grouped-query attention). */
  nKvHeads: number;
  /** dModel / nHeads. */
  dHead: number;
  /** Hidden width of the MLP (GPT-2: 4·dModel). */
  dMlp: number;
  /** Context length: the number of learned positions. */
  nCtx: number;
  /** Unembedding shares the token embedding (logits = x·W_Eᵀ). */
  tiedEmbeddings: boolean;
  layerNormEps: number;
  /** Std of the normal init of weight matrices (GPT-2: 0.02). */
  initStd: number;
}

/** Head width, derived. */
export function dHead(c: ModelConfig): number {
  return c.dModel / c.nHeads;
}

/** Fills GPT-2 defaults for the optional fields (and the derived family, nKvHeads, dHead). */
export function modelConfig(c: Partial<Omit<ModelConfig, 'family' | 'nKvHeads' | 'dHead'>> & Pick<ModelConfig, 'vocabSize' | 'dModel' | 'nLayers' | 'nHeads' | 'nCtx'>): ModelConfig {
  const full = withDerived({
    dMlp: 4 * c.dModel,
    tiedEmbeddings: true,
    layerNormEps: 1e-5,
    initStd: 0.02,
    ...c,
  });
  validateModelConfig(full);
  return full;
}

/** A GPT-2 config as stored before families existed (no family, nKvHeads, dHead) → the full config. */
export function withDerived(c: Omit<ModelConfig, 'family' | 'nKvHeads' | 'dHead'> & Partial<ModelConfig>): ModelConfig {
  // Appended last so a stored config's own key order is kept (checkpoints strip these three).
  if (c.family === 'gpt2' && c.nKvHeads === c.nHeads && c.dHead === c.dModel / c.nHeads) return c as ModelConfig;
  const { family: _f, nKvHeads: _k, dHead: _d, ...rest } = c;
  return { ...rest, family: 'gpt2', nKvHeads: c.nHeads, dHead: c.dModel / c.nHeads };
}

/** Throws a BonsaiError naming every bad field (the recipe validates first; this guards the API). */
export function validateModelConfig(c: ModelConfig, where = 'model config'): void {
  const bad: string[] = [];
  for (const k of ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'nCtx'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad.push(`${k} must be a positive integer (got ${c[k]})`);
  }
  if (Number.isInteger(c.dModel) && Number.isInteger(c.nHeads) && c.nHeads > 0 && c.dModel % c.nHeads !== 0) {
    bad.push(`dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads})`);
  }
  if (!(c.layerNormEps > 0)) bad.push(`layerNormEps must be > 0 (got ${c.layerNormEps})`);
  if (!(c.initStd > 0)) bad.push(`initStd must be > 0 (got ${c.initStd})`);
  if (bad.length) throw new BonsaiError(`invalid ${where}: ${bad.join('; ')}`);
}

/** True when two GPT-2 configs describe the same parameter shapes (lm-config.ts's sameArchitecture covers every family). */
export function sameGpt2Architecture(a: ModelConfig, b: ModelConfig): boolean {
  return (['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'nCtx', 'tiedEmbeddings'] as const).every(
    (k) => a[k] === b[k],
  );
}
