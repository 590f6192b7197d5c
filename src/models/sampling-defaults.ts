/**
 * Sampling settings where the user gives none: a model directory's generation_config.json
 * (`do_sample`, `temperature`, `top_p`, `top_k`: what `model.generate()` uses), then bonsai's
 * own defaults. Only fields the file names count; transformers' defaults for the others
 * (top_k 50, do_sample false) are not applied. `bonsai generate` and RL both resolve here,
 * and say which settings came from the file.
 */
import type { SamplingOptions } from './sampling.ts';
import { asHfTokenizer, type GenerationDefaults, type Tokenizer } from './tokenizer-contract.ts';

/** The settings chosen, and where each came from (for the run's params and the log). */
export interface ResolvedSampling extends SamplingOptions {
  temperature: number;
  /** `temperature: DIR/generation_config.json`, … for each setting the file gave. */
  fromFile: Record<string, string>;
  /** A file setting bonsai did not apply, and why (RL ignores do_sample false). */
  notes: string[];
}

/**
 * Resolves the sampling settings. `given`: the user's (undefined where not given);
 * `fallback`: bonsai's default temperature; `alwaysSample`: RL, whose groups need sampled
 * rollouts, so the file's `do_sample: false` is noted and not applied.
 */
export function resolveSampling(
  given: SamplingOptions,
  tok: Tokenizer,
  opts: { fallbackTemperature: number; alwaysSample?: boolean; names?: { temperature: string; topP: string; topK: string } },
): ResolvedSampling {
  const file: GenerationDefaults | undefined = asHfTokenizer(tok)?.generationDefaults;
  const names = opts.names ?? { temperature: 'temperature', topP: 'top_p', topK: 'top_k' };
  const out: ResolvedSampling = { temperature: given.temperature ?? opts.fallbackTemperature, topK: given.topK, topP: given.topP, fromFile: {}, notes: [] };
  if (!file) return out;
  const greedyFile = file.doSample === false;
  if (greedyFile && opts.alwaysSample) out.notes.push(`${file.file}: do_sample false is not applied: RL samples its rollouts`);
  if (given.temperature === undefined) {
    if (greedyFile && !opts.alwaysSample) {
      out.temperature = 0;
      out.fromFile[names.temperature] = `${file.file} (do_sample false: greedy)`;
    } else if (file.temperature !== undefined && !(opts.alwaysSample && file.temperature === 0)) {
      out.temperature = file.temperature;
      out.fromFile[names.temperature] = file.file;
    }
  }
  // transformers applies top_p and top_k only when it samples.
  if (!greedyFile || opts.alwaysSample) {
    if (given.topP === undefined && file.topP !== undefined) {
      out.topP = file.topP;
      out.fromFile[names.topP] = file.file;
    }
    if (given.topK === undefined && file.topK !== undefined) {
      out.topK = file.topK;
      out.fromFile[names.topK] = file.file;
    }
  }
  return out;
}

/** One line for a log: `temperature 0.6, top_p 0.9 (from DIR/generation_config.json)`. */
export function describeSampling(s: ResolvedSampling): string {
  const parts = [s.temperature === 0 ? 'greedy (temperature 0)' : `temperature ${s.temperature}`];
  if (s.temperature !== 0 && s.topP !== undefined) parts.push(`top_p ${s.topP}`);
  if (s.temperature !== 0 && s.topK !== undefined) parts.push(`top_k ${s.topK}`);
  const from = Object.entries(s.fromFile).map(([k, f]) => `${k} from ${f}`);
  return `sampling: ${parts.join(', ')}${from.length ? `; ${from.join('; ')}` : ''}${s.notes.length ? `; ${s.notes.join('; ')}` : ''}`;
}
