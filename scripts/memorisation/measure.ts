// The memorisation table: per seed, write the world, train recipes/memorisation-base.yaml, then
// edit it with recipes/memorisation-kfac.yaml (its rule chooses rho on the world's held-out
// split, rule_valid.jsonl) and with the control recipes/memorisation-random.yaml (as many
// components per matrix at the rho the rule chose, drawn at random), scoring each model on the
// memorised items and the held-out rule instances. Prints the Markdown tables (mean ± std, worst
// seed, per seed) and writes them with raw.json.
//   node bin/run-ts.js scripts/memorisation/measure.ts [--seeds 0,1,2,3,4] [--keep-base] [--table-only] [--set PATH=VALUE]...
// --keep-base reuses a seed's base checkpoint from an earlier run of this script; each seed's rows
// are saved (runs/memorisation-measure/seed<N>/rows.json), so seeds can run as separate processes
// and --table-only --seeds 0,1,2 then prints the table from them. --set overrides a field of both
// edit recipes (e.g. --set edit.choose_rho.max_loss_increase=0.01).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.ts';
import { evaluateMemorisation, type MemorisationEval } from '../../src/data/tasks/memorisation-eval.ts';
import { readRecords } from '../../src/data/records.ts';
import { runEdit } from '../../src/gradients/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadEditRecipe, loadRecipe } from '../../src/recipe/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { writeMemorisationWorld } from './world.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const seeds = arg('--seeds', '0,1,2,3,4').split(',').map(Number);
const sets = args.flatMap((a, i) => (args[i - 1] === '--set' ? [a] : []));
const keepBase = args.includes('--keep-base');
const tableOnly = args.includes('--table-only');
const root = 'runs/memorisation-measure';
const tok = createTokenizer('byte');
await initBackend('auto');

type Row = MemorisationEval & { rho: number; removed: number; rel_change: number };
const ARMS = { kfac: 'K-FAC, ρ chosen by the rule', random: 'control: random components at that ρ' } as const;

for (const seed of tableOnly ? [] : seeds) {
  const dir = `${root}/seed${seed}`;
  if (!keepBase) rmSync(dir, { recursive: true, force: true }); // this script's own output
  const files = writeMemorisationWorld(seed, `${dir}/data`);
  const rec = (p: string) => readRecords(p, { prompt: 'string', completion: 'string' }) as Array<{ prompt: string; completion: string }>;
  const memorised = rec(files.memorised);
  const ruleEval = rec(files.ruleEval);
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
  const rows: Record<string, Row> = { base: { ...score(base), rho: 1, removed: 0, rel_change: 0 } };
  let eigen;
  for (const arm of Object.keys(ARMS) as Array<keyof typeof ARMS>) {
    const recipe = loadEditRecipe(`recipes/memorisation-${arm}.yaml`, {
      overrides: [
        `run.seed=${seed}`, `run.out_dir=${dir}/${arm}`, `model.init.checkpoint=${base}`, `edit.data.path=${files.ruleTrain}`, `edit.factors=${dir}/kfac-factors-all.safetensors`,
        `edit.choose_rho.validation.path=${files.ruleValid}`, `edit.choose_rho.test.0.path=${files.ruleEval}`, `edit.choose_rho.test.1.path=${files.memorised}`, ...sets,
      ],
    });
    const res = runEdit(recipe, { eigen, log: (l) => console.error(`seed ${seed} ${arm}: ${l}`) });
    eigen = res.eigen;
    const removed = res.targets.reduce((s, t) => s + t.components - t.kept, 0) / res.targets.reduce((s, t) => s + t.components, 0);
    const rel = res.targets.reduce((s, t) => s + t.relativeChange, 0) / res.targets.length;
    rows[arm] = { ...score(res.output), rho: res.targets[0]!.rho, removed, rel_change: rel };
    rmSync(res.output, { recursive: true, force: true });
  }
  writeFileSync(`${dir}/rows.json`, JSON.stringify(rows, null, 1));
  console.error(`seed ${seed}: ${JSON.stringify(rows)}`);
}

const perSeed = seeds.map((seed) => ({ seed, rows: JSON.parse(readFileSync(`${root}/seed${seed}/rows.json`, 'utf8')) as Record<string, Row> }));
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
/** Mean ± std, and the worst seed (most recall left, or least rule accuracy). */
const cell = (arm: string, f: (r: Row) => number, worst: 'high' | 'low', scale = 100, digits = 1) => {
  const xs = perSeed.map((s) => f(s.rows[arm]!));
  const at = xs.reduce((w, x, i) => ((worst === 'high' ? x > xs[w]! : x < xs[w]!) ? i : w), 0);
  return `${ms(xs, scale, digits)} (worst ${(xs[at]! * scale).toFixed(digits)}, seed ${seeds[at]})`;
};
const p = (x: number) => (100 * x).toFixed(1);
const lines = [
  `| model (${seeds.length} seeds: ${seeds.join(', ')}) | strict recall % | loose recall % | held-out rule acc % | rule perplexity | ρ | components removed % |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...['base', ...Object.keys(ARMS)].map((arm) => `| ${arm === 'base' ? 'base' : ARMS[arm as keyof typeof ARMS]} | ${cell(arm, (r) => r.strict_recall, 'high')} | ${cell(arm, (r) => r.loose_recall, 'high')} | ${cell(arm, (r) => r.rule_accuracy, 'low')} | ${cell(arm, (r) => r.rule_perplexity, 'high', 1, 3)} | ${ms(perSeed.map((s) => s.rows[arm]!.rho), 1, 3)} | ${ms(perSeed.map((s) => s.rows[arm]!.removed))} |`),
  '',
  '| seed | ρ chosen | K-FAC strict / loose recall % | K-FAC rule acc % (base) | K-FAC rule perplexity | control strict recall % | control rule acc % |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...perSeed.map(({ seed, rows: r }) => `| ${seed} | ${r.kfac!.rho} | ${p(r.kfac!.strict_recall)} / ${p(r.kfac!.loose_recall)} | ${p(r.kfac!.rule_accuracy)} (${p(r.base!.rule_accuracy)}) | ${r.kfac!.rule_perplexity.toFixed(3)} | ${p(r.random!.strict_recall)} | ${p(r.random!.rule_accuracy)} |`),
];
mkdirSync(root, { recursive: true });
writeFileSync(`${root}/table-${seeds.join('-')}.md`, `${lines.join('\n')}\n`);
writeFileSync(`${root}/raw-${seeds.join('-')}.json`, JSON.stringify(perSeed, null, 1));
console.log(lines.join('\n'));
