// The memorisation table: per seed, write the world, train recipes/memorisation-base.yaml,
// then edit it with recipes/memorisation-kfac.yaml (the chosen rho and a sweep) and the
// control recipes/memorisation-random.yaml (same rho, components drawn at random), scoring
// each model. Prints the Markdown table (mean ± std over seeds) and writes it with raw.json.
//   node bin/run-ts.js scripts/memorisation/measure.ts [--seeds 0,1,2,3,4] [--rhos 0.9,0.8,...] [--keep-base] [--table-only]
//                                                      [--curvature-data rule_train|train] [--rho R]
// --curvature-data: the text the factors are taken on: the rule lines of the training file
// (default, as the recipes ship) or the whole training mix, memorised lines included.
// --rho: the "chosen" row's rho instead of recipes/memorisation-kfac.yaml's.
// --keep-base reuses a seed's base checkpoint from an earlier run of this script; each seed's
// rows are saved (runs/memorisation-measure/seed<N>/rows-<curvature data>.json), so seeds can run as separate
// processes side by side and --table-only --seeds 0,1,2 then prints the table from them.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.ts';
import { evaluateMemorisation, type MemorisationEval } from '../../src/data/tasks/memorisation-eval.ts';
import { readRecords } from '../../src/data/records.ts';
import { runEdit, type FactorEigen } from '../../src/gradients/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadEditRecipe, loadRecipe } from '../../src/recipe/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { writeMemorisationWorld } from './world.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const seeds = arg('--seeds', '0,1,2,3,4').split(',').map(Number);
const sweep = arg('--rhos', '0.98,0.96,0.95,0.94,0.92,0.9,0.88,0.85,0.8').split(',').map(Number);
const keepBase = process.argv.includes('--keep-base');
const tableOnly = process.argv.includes('--table-only');
const curvatureData = arg('--curvature-data', 'rule_train');
if (curvatureData !== 'rule_train' && curvatureData !== 'train') throw new Error(`--curvature-data must be rule_train or train, got ${curvatureData}`);
const root = 'runs/memorisation-measure';
const tok = createTokenizer('byte');
await initBackend('auto');

type Row = MemorisationEval & { removed: number; rel_change: number };
const chosenRho = Number(arg('--rho', String(loadEditRecipe('recipes/memorisation-kfac.yaml', { overrides: ['model.init.checkpoint=.'] }).edit.rho)));

for (const seed of tableOnly ? [] : seeds) {
  const dir = `${root}/seed${seed}`;
  const seedRows = new Map<string, Row>();
  const push = (k: string, r: Row) => seedRows.set(k, r);
  if (!keepBase) rmSync(dir, { recursive: true, force: true }); // this script's own output
  const files = writeMemorisationWorld(seed, `${dir}/data`);
  const memorised = readRecords(files.memorised, { prompt: 'string', completion: 'string' }) as Array<{ prompt: string; completion: string }>;
  const ruleEval = readRecords(files.ruleEval, { prompt: 'string', completion: 'string' }) as Array<{ prompt: string; completion: string }>;
  const score = (ckpt: string) => {
    const ck = loadCheckpoint(ckpt);
    const m = HookedTransformer.fromValues(ck.config, ck.weights);
    try {
      return evaluateMemorisation(m, tok, memorised, ruleEval);
    } finally {
      m.dispose();
    }
  };
  let base = newest(`${dir}/base`);
  if (!base) {
    const t0 = performance.now();
    const r = await train(loadRecipe('recipes/memorisation-base.yaml', { overrides: [`run.seed=${seed}`, `run.out_dir=${dir}/base`, 'tracking.uri=none', `data.train.path=${files.train}`, `data.eval.path=${files.ruleEval}`] }));
    base = r.checkpoint!;
    console.error(`seed ${seed}: base trained in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  push('base', { ...score(base), removed: 0, rel_change: 0 });
  let eigen: Map<string, FactorEigen> | undefined;
  const edit = (recipe: string, rho: number, label: string) => {
    const out = `${dir}/${label}`;
    const r = loadEditRecipe(recipe, {
      overrides: [`run.seed=${seed}`, `run.out_dir=${out}`, `model.init.checkpoint=${base}`, `edit.data.path=${curvatureData === 'train' ? files.train : files.ruleTrain}`, `edit.factors=${dir}/kfac-factors-${curvatureData}.safetensors`, `edit.rho=${rho}`],
    });
    const res = runEdit(r, { eigen, log: (l) => console.error(`seed ${seed} ${label}: ${l}`) });
    eigen = res.eigen;
    const removed = res.targets.reduce((s, t) => s + t.components - t.kept, 0) / res.targets.reduce((s, t) => s + t.components, 0);
    const rel = res.targets.reduce((s, t) => s + t.relativeChange, 0) / res.targets.length;
    const row = { ...score(res.output), removed, rel_change: rel };
    rmSync(res.output, { recursive: true, force: true });
    return row;
  };
  push(`K-FAC, ρ = ${chosenRho} (chosen)`, edit('recipes/memorisation-kfac.yaml', chosenRho, `kfac-${chosenRho}`));
  push(`control: random components, ρ = ${chosenRho}`, edit('recipes/memorisation-random.yaml', chosenRho, `random-${chosenRho}`));
  for (const rho of sweep) {
    push(`sweep: K-FAC ρ = ${rho}`, edit('recipes/memorisation-kfac.yaml', rho, `kfac-${rho}`));
    push(`sweep: random ρ = ${rho}`, edit('recipes/memorisation-random.yaml', rho, `random-${rho}`));
  }
  writeFileSync(`${dir}/rows-${curvatureData}.json`, JSON.stringify(Object.fromEntries(seedRows), null, 1));
  console.error(`seed ${seed}: ${JSON.stringify(Object.fromEntries(seedRows))}`);
}

const rows = new Map<string, Row[]>();
for (const seed of seeds) {
  const saved = JSON.parse(readFileSync(`${root}/seed${seed}/rows-${curvatureData}.json`, 'utf8')) as Record<string, Row>;
  for (const [k, r] of Object.entries(saved)) rows.set(k, [...(rows.get(k) ?? []), r]);
}

function newest(d: string): string | undefined {
  if (!existsSync(d)) return undefined;
  const steps = readdirSync(d).filter((x) => /^step-\d+$/.test(x)).sort();
  return steps.length ? join(d, steps.at(-1)!) : undefined;
}
const ms = (xs: number[], scale = 100, digits = 1) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${(m * scale).toFixed(digits)} ± ${(sd * scale).toFixed(digits)}`;
};
const lines = [
  `| model (${seeds.length} seeds: ${seeds.join(', ')}) | strict recall % | loose recall % | held-out rule acc % | rule perplexity | components removed % | mean ‖ΔW‖/‖W‖ |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...[...rows].map(([k, rs]) => {
    const col = (f: (r: Row) => number, scale = 100, digits = 1) => ms(rs.map(f), scale, digits);
    return `| ${k} | ${col((r) => r.strict_recall)} | ${col((r) => r.loose_recall)} | ${col((r) => r.rule_accuracy)} | ${col((r) => r.rule_perplexity, 1, 3)} | ${col((r) => r.removed)} | ${col((r) => r.rel_change, 1, 3)} |`;
  }),
];
// A mean can hide one bad seed: each seed's chosen-ρ row, and the worst (most strict recall left).
const chosenKey = `K-FAC, ρ = ${chosenRho} (chosen)`;
const perSeed = (rows.get(chosenKey) ?? []).map((r, i) => ({ seed: seeds[i]!, r }));
const worstSeed = perSeed.reduce((w, x) => (x.r.strict_recall > w.r.strict_recall ? x : w), perSeed[0]!);
if (perSeed.length) {
  lines.push('', `chosen ρ = ${chosenRho} per seed (strict recall % / held-out rule acc % / rule perplexity): ${perSeed.map(({ seed, r }) => `seed ${seed}: ${(100 * r.strict_recall).toFixed(1)} / ${(100 * r.rule_accuracy).toFixed(1)} / ${r.rule_perplexity.toFixed(3)}`).join('; ')}`);
  lines.push(`worst seed (most strict recall left): ${worstSeed.seed}`);
}
mkdirSync(root, { recursive: true });
writeFileSync(`${root}/table-${curvatureData}.md`, `${lines.join('\n')}\n`);
writeFileSync(`${root}/raw-${curvatureData}.json`, JSON.stringify(Object.fromEntries(rows), null, 1));
console.log(lines.join('\n'));
