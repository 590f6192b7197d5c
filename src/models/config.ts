import { BonsaiError } from '../errors.ts';

/** Shape of a GPT-2-style decoder. camelCase here; recipes use snake_case. */
export interface ModelConfig {
  vocabSize: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
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

/** Fills GPT-2 defaults for the optional fields. */
export function modelConfig(c: Partial<ModelConfig> & Pick<ModelConfig, 'vocabSize' | 'dModel' | 'nLayers' | 'nHeads' | 'nCtx'>): ModelConfig {
  const full: ModelConfig = {
    dMlp: 4 * c.dModel,
    tiedEmbeddings: true,
    layerNormEps: 1e-5,
    initStd: 0.02,
    ...c,
  };
  validateModelConfig(full);
  return full;
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

/** True when two configs describe the same parameter shapes. */
export function sameArchitecture(a: ModelConfig, b: ModelConfig): boolean {
  return (['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dMlp', 'nCtx', 'tiedEmbeddings'] as const).every(
    (k) => a[k] === b[k],
  );
}
