// What bench/probe_vs_judge.ts compares, per world and seed, trained from the shipped recipes
// when missing (a later run reuses them): the base model, the probe on its frozen copy, and
// the judge (the base taught the labelling format: recipes/…judge.yaml on data/…/judge.jsonl,
// written by scripts/judge/make-data.ts from the probe's training data only).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Tokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadProbe } from '../../src/probes/io.ts';
import { SEQUENCE_JUDGE, TOKEN_JUDGE, type JudgeFormat } from '../../src/probes/judge.ts';
import type { Probe } from '../../src/probes/probe.ts';
import { ensureRecipeProbe } from '../../src/probes/recipe.ts';
import { loadAnyRecipe, loadRecipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { loadCheckpoint, latestCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';

export type WorldName = 'halluc' | 'pii';

/** The shipped recipes and data of each world. */
export const WORLDS: Record<WorldName, { base: string; probe: string; judge: string; format: JudgeFormat; level: 'sequence' | 'token' }> = {
  halluc: { base: 'recipes/hallucination/a_sft_base.yaml', probe: 'recipes/hallucination/b_probe.yaml', judge: 'recipes/hallucination/e_judge.yaml', format: SEQUENCE_JUDGE, level: 'sequence' },
  pii: { base: 'recipes/pii-base.yaml', probe: 'recipes/pii-probe.yaml', judge: 'recipes/pii-judge.yaml', format: TOKEN_JUDGE, level: 'token' },
};

export interface Trio {
  frozen: HookedTransformer;
  probe: Probe;
  judge: HookedTransformer;
  dispose(): void;
}

const load = (dir: string) => {
  const c = loadCheckpoint(dir);
  return HookedTransformer.fromValues(c.config, c.weights);
};

/** Base → probe → judge for one world and seed under `dir`, each trained only if missing. */
export async function setUp(world: WorldName, seed: number, dir: string, tok: Tokenizer, log: (s: string) => void): Promise<Trio> {
  const w = WORLDS[world];
  const common = ['tracking.uri=none', `run.seed=${seed}`];
  const step = async (what: string, out: string, overrides: string[], file: string) => {
    const have = existsSync(out) ? latestCheckpoint(out) : undefined;
    if (have) return have;
    const t0 = performance.now();
    const r = await train(loadRecipe(file, { overrides: [...common, `run.out_dir=${out}`, ...overrides] }), { tracker: new NullTracker() });
    log(`${world} seed ${seed}: ${what} trained in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    return r.checkpoint!;
  };
  const base = await step('base', join(dir, 'base'), [], w.base);
  const b = loadAnyRecipe(w.probe, { overrides: [...common, `model.init.checkpoint=${base}`, `run.out_dir=${join(dir, 'probe')}`, `probes.0.train.seed=${seed}`] });
  const frozen = (() => { const m = load(base); const f = m.frozenCopy(); m.dispose(); return f; })();
  const pdir = await ensureRecipeProbe(b, frozen, tok, (p) => log(`${world} seed ${seed}: probe trained (held-out AUROC ${p.meta.metrics.auroc.toFixed(3)})`));
  const probe = loadProbe(pdir, frozen);
  const judgeCk = await step('judge', join(dir, 'judge'), [`model.init.checkpoint=${base}`], w.judge);
  const judge = load(judgeCk);
  return { frozen, probe, judge, dispose: () => [frozen, probe, judge].forEach((x) => x.dispose()) };
}
