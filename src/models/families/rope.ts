/**
 * RoPE settings in config.json, as several families write them: the top-level `rope_theta` /
 * `rope_scaling`, or the `rope_parameters` object newer transformers write (and, per layer
 * type, Gemma 3's).
 */
import type { HfFields } from './fields.ts';

type Json = Record<string, unknown>;

/** RoPE frequency scaling (`rope_scaling` in config.json). */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

/** RoPE: its base, the number of leading head dims rotated, and scaling. */
export interface RopeSpec {
  theta: number;
  rotaryDim: number;
  scaling?: RopeScaling;
}

/**
 * RoPE from the top-level `rope_theta` / `rope_scaling`, or from the `rope_parameters` object
 * newer transformers write (rope_theta, rope_type and its factors, partial_rotary_factor).
 */
export function readRope(f: HfFields, dHead: number, opts: { theta: number; rotaryFraction?: number; params?: Json; paramsField?: string }): RopeSpec {
  // Given `params` (one layer type's RoPE, Gemma 3), the top-level fields do not apply.
  const topLevel = opts.params === undefined;
  const params = opts.params ?? (typeof f.json.rope_parameters === 'object' && f.json.rope_parameters !== null ? (f.json.rope_parameters as Json) : {});
  const where = opts.paramsField ?? 'rope_parameters';
  const pick = (field: string, fallback: number): number => {
    const sources: Array<[string, unknown]> = [[`${where}.${field}`, params[field]], ...(topLevel ? [[field, f.json[field]] as [string, unknown]] : [])];
    for (const [name, v] of sources) {
      if (v === undefined || v === null) continue;
      if (typeof v === 'number' && v > 0) return v;
      f.bad(name, `expected a positive number, got ${JSON.stringify(v)}`);
    }
    return fallback;
  };
  const fraction = pick('partial_rotary_factor', opts.rotaryFraction ?? 1);
  const rotaryDim = Math.floor(dHead * fraction);
  if (rotaryDim % 2 !== 0) f.bad(params.partial_rotary_factor !== undefined ? `${where}.partial_rotary_factor` : 'rotary_pct', `rotates ${rotaryDim} dims of each head; must be even`);
  const theta = pick('rope_theta', opts.theta);
  const fromParams = params.rope_type !== undefined || !topLevel;
  const scaling = ropeScaling(fromParams ? params : f.json.rope_scaling, (msg) => f.bad(fromParams ? where : 'rope_scaling', msg));
  return { theta, rotaryDim, ...(scaling ? { scaling } : {}) };
}

function ropeScaling(value: unknown, bad: (msg: string) => void): RopeScaling | undefined {
  if (value === undefined || value === null) return undefined;
  const s = value as Json;
  const kind = s.rope_type ?? s.type;
  if (kind === 'default') return undefined;
  const factor = s.factor;
  if (typeof factor !== 'number' || !(factor > 0)) {
    bad(`factor must be a positive number, got ${JSON.stringify(factor)}`);
    return undefined;
  }
  if (kind === 'linear') return { type: 'linear', factor };
  if (kind === 'llama3') {
    const need = ['low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'].filter((k) => typeof s[k] !== 'number');
    if (need.length > 0) {
      bad(`type llama3 needs ${need.join(', ')}`);
      return undefined;
    }
    return { type: 'llama3', factor, lowFreqFactor: s.low_freq_factor as number, highFreqFactor: s.high_freq_factor as number, originalMaxPositions: s.original_max_position_embeddings as number };
  }
  bad(`type ${JSON.stringify(kind)} not supported (bonsai implements linear and llama3)`);
  return undefined;
}

/** rope_scaling as config.json writes it. */
export function ropeScalingJson(s: RopeScaling | undefined): Json | undefined {
  if (!s) return undefined;
  if (s.type === 'linear') return { rope_type: 'linear', factor: s.factor };
  return { rope_type: 'llama3', factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositions };
}
