/**
 * `bonsai sae train`: read one hook's activations of the recipe's model (frozen) over the
 * recipe's text, train a TopK SAE on them, save it with the model's fingerprint and the
 * hook, and report reconstruction MSE, fraction of variance explained and dead latents.
 */
import { join } from 'node:path';
import { recipeTokenizer } from '../models/init-kinds.ts';
import type { SaeRecipe } from '../recipe/sae-schema.ts';
import type { Tracker } from '../tracking/index.ts';
import { NullTracker } from '../tracking/null-tracker.ts';
import { buildModel } from '../models/init-build.ts';
import { collectActivations, datasetSequences } from './activations.ts';
import { saveSae } from './io.ts';
import type { SaeMetrics } from './sae.ts';
import { trainSae } from './train.ts';

export interface SaeJobResult {
  /** Where the SAE was saved. */
  dir: string;
  hook: string;
  fingerprint: string;
  d: number;
  latents: number;
  k: number;
  /** Activation rows read (train + held out). */
  tokens: number;
  metrics: SaeMetrics;
  seconds: number;
}

/** Where a recipe's SAE is saved: sae.out, else <run.out_dir>/sae. */
function saeDir(recipe: Pick<SaeRecipe, 'run' | 'sae'>): string {
  return recipe.sae.out ?? join(recipe.run.out_dir, 'sae');
}

/** Runs a `job: sae` recipe (the backend must be initialised). Metrics go to `tracker` as sae/<name>. */
export function runSaeJob(recipe: SaeRecipe, opts: { tracker?: Pick<Tracker, 'logMetrics'>; log?(line: string): void } = {}): SaeJobResult {
  const t0 = Date.now();
  const s = recipe.sae;
  const tok = recipeTokenizer(recipe.model);
  const model = buildModel(recipe, tok);
  const frozen = model.frozenCopy();
  model.dispose();
  try {
    const seqs = datasetSequences(s.data, tok, frozen.config.nCtx);
    const rows = collectActivations(frozen, s.hook, seqs, s.max_tokens);
    const latents = s.expansion * rows.d;
    opts.log?.(`sae: ${rows.n} activation rows of width ${rows.d} at ${s.hook}; ${latents} latents, k ${s.k}`);
    const tracker = opts.tracker ?? new NullTracker();
    const train = { expansion: s.expansion, k: s.k, steps: s.steps, batch_size: s.batch_size, lr: s.lr, aux_k: s.aux_k, aux_coef: s.aux_coef, dead_steps: s.dead_steps, seed: s.seed ?? recipe.run.seed, data: s.data.path, tokens: rows.n };
    const sae = trainSae(rows, {
      hook: s.hook, fingerprint: frozen.fingerprint(), latents, k: s.k, steps: s.steps, batchSize: s.batch_size, lr: s.lr, seed: s.seed ?? recipe.run.seed,
      heldOut: s.held_out, auxK: s.aux_k, auxCoef: s.aux_coef, deadSteps: s.dead_steps, logEvery: s.log_every,
      onStep(step, m) {
        tracker.logMetrics(step, { 'sae/train_nmse': m.nmse, 'sae/aux_loss': m.aux, 'sae/dead_latents': m.dead });
        opts.log?.(`step ${step}/${s.steps} nmse ${m.nmse.toFixed(4)} aux ${m.aux.toFixed(4)} dead ${m.dead}/${latents}`);
      },
    });
    sae.meta.train = train;
    const metrics = sae.meta.metrics!;
    tracker.logMetrics(s.steps, { 'sae/mse': metrics.mse, 'sae/fve': metrics.fve, 'sae/dead_fraction': metrics.dead_fraction, 'sae/l0': metrics.l0 });
    const dir = saeDir(recipe);
    saveSae(dir, sae);
    sae.dispose();
    return { dir, hook: s.hook, fingerprint: frozen.fingerprint(), d: rows.d, latents, k: s.k, tokens: rows.n, metrics, seconds: (Date.now() - t0) / 1000 };
  } finally {
    frozen.dispose();
  }
}
