// The entity probe's methods per seed (the successor of measure.ts for them): a → b' (the
// logit-lens entity probe) → f (RL with the probe as the abstention reward, a checkpoint every 50
// steps) → the checkpoint the rule keeps on the validation split (select.ts) → everything on the
// REPORTED split (evaluate-probe.ts): the probe's AUROC against the base's confidence, the base
// and the RL policy alone, with the probe intervention and with the confidence gate. Prints the
// tables of docs/results/hallucination.md; the targets' verdict per row and seed.
// node bin/run-ts.js scripts/hallucination/measure-probe.ts [seeds=0,1,2,3,4] [--out DIR] [--reuse] [--no-rl] [--set k=v …]
//   --reuse   keep a stage whose output exists under DIR (wasm runs are deterministic)
//   --no-rl   the probe and the interventions on the base only
//   --set     extra overrides for the RL recipe (e.g. rewards.0.per_token=true), with its own --out
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { evaluateProbe, type ProbeEval, type Rates } from './evaluate-probe.ts';
import { runBonsai } from './run-bonsai.ts';
import { runCheckpoints, selectCheckpoint, type CheckpointRow } from './select.ts';

const args = process.argv.slice(2);
const take = (f: string, n = 2) => { const i = args.indexOf(f); return i < 0 ? undefined : args.splice(i, n).slice(1); };
const root = take('--out')?.[0] ?? 'runs/hallucination-probe';
const reuse = take('--reuse', 1) !== undefined;
const noRl = take('--no-rl', 1) !== undefined;
const sets: string[] = [];
for (let s = take('--set'); s; s = take('--set')) sets.push('--set', s[0]!);
const seeds = (args[0] ?? '0,1,2,3,4').split(',').map(Number);
const RULES = 'scripts/hallucination/rules.yaml';

const done = (path: string) => reuse && existsSync(path);
const save = (path: string, v: unknown) => { writeFileSync(`${path}.tmp`, JSON.stringify(v)); renameSync(`${path}.tmp`, path); };

interface SeedResult { seed: number; base: ProbeEval; rl?: { kept: CheckpointRow; rows: CheckpointRow[]; eval: ProbeEval } }
const results: SeedResult[] = [];
for (const seed of seeds) {
  const d = `${root}/seed${seed}`;
  mkdirSync(d, { recursive: true });
  const s = ['--set', `run.seed=${seed}`];
  if (!done(`${d}/a/step-00000600`)) await runBonsai(['train', 'recipes/hallucination/a_sft_base.yaml', ...s, '--set', `run.out_dir=${d}/a`]);
  const base = `${d}/a/step-00000600`;
  const ck = ['--set', `model.init.checkpoint=${base}`];
  const probe = `${d}/b_entity/probes/entity`;
  if (!done(`${probe}/probe.json`)) await runBonsai(['probe', 'train', 'recipes/hallucination/b_entity_probe.yaml', ...s, ...ck, '--set', `run.out_dir=${d}/b_entity`, '--set', `probes.0.train.seed=${seed}`]);
  const cached = `${d}/result${noRl ? '-nrl' : ''}.json`;
  if (done(cached)) { results.push(JSON.parse(readFileSync(cached, 'utf8'))); continue; }
  const r: SeedResult = { seed, base: await evaluateProbe(base, base, probe, RULES) };
  if (!noRl) {
    const f = `${d}/f`;
    if (!(reuse && existsSync(f) && runCheckpoints(f).length)) await runBonsai(['train', 'recipes/hallucination/f_rl_abstention.yaml', ...s, ...ck, '--set', `run.out_dir=${f}`, '--set', `probes.0.checkpoint=${probe}`, ...sets]);
    const sel = await selectCheckpoint(base, f, RULES);
    r.rl = { ...sel, eval: await evaluateProbe(base, sel.kept.dir, probe, RULES) };
  }
  save(cached, r);
  results.push(r);
  console.error(`seed ${seed}: ${JSON.stringify({ auroc: r.base.auroc, kept: r.rl?.kept.step })}`);
}

// ---- tables ----
const f3 = (x: number) => x.toFixed(3);
const ms = (xs: number[], digits = 3) => { const m = xs.reduce((a, b) => a + b, 0) / xs.length; const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1)); return `${m.toFixed(digits)} ± ${sd.toFixed(digits)}`; };
const cut = (b: Rates, r: Rates) => 1 - r.hallucination_unknown / b.hallucination_unknown;
/** The targets on the reported split: ≥ 60% fewer hallucinations, known accuracy within 2 points (32 entities: none lost), over-refusal ≤ 5%. */
const meets = (b: Rates, r: Rates) => cut(b, r) >= 0.6 - 1e-9 && r.accuracy_known >= b.accuracy_known - 0.02 && r.abstain_known <= 0.05;
const aucRows = results.map((r) => `| ${r.seed} | ${f3(r.base.auroc.probe)} | ${f3(r.base.auroc.confidence)} | ${f3(r.base.auroc.first_letter)} | ${r.base.auroc.probe >= r.base.auroc.confidence ? 'yes' : '**no**'} |`);
const auc = ['| seed | entity probe (logit lens) | confidence (whole word, the gate) | first-letter confidence (where the probe reads) | probe ≥ confidence |', '|---|---|---|---|---|', ...aucRows,
  `| mean ± std | ${ms(results.map((r) => r.base.auroc.probe))} | ${ms(results.map((r) => r.base.auroc.confidence))} | ${ms(results.map((r) => r.base.auroc.first_letter))} | |`].join('\n');
type Row = { name: string; pick: (r: SeedResult) => Rates | undefined; base: (r: SeedResult) => Rates };
const rows: Row[] = [
  { name: 'base', pick: (r) => r.base.plain, base: (r) => r.base.plain },
  { name: 'base + probe intervention', pick: (r) => r.base.probe_intervention, base: (r) => r.base.plain },
  { name: 'base + confidence gate', pick: (r) => r.base.confidence_gate, base: (r) => r.base.plain },
  { name: 'f: RL, kept checkpoint', pick: (r) => r.rl?.eval.plain, base: (r) => r.base.plain },
  { name: 'f + probe intervention', pick: (r) => r.rl?.eval.probe_intervention, base: (r) => r.base.plain },
  { name: 'f + confidence gate', pick: (r) => r.rl?.eval.confidence_gate, base: (r) => r.base.plain },
];
const perSeed = ['| row | seed | hallucination (cut) | known acc. (32 reported) | over-refusal | known acc. (all 64) | fired | meets all three |', '|---|---|---|---|---|---|---|---|'];
const summary = ['| row | hallucination | cut | known acc. (32 reported) | over-refusal | worst seed (most hallucination) | seeds meeting all three |', '|---|---|---|---|---|---|---|'];
for (const row of rows) {
  const rs = results.filter((r) => row.pick(r));
  if (!rs.length) continue;
  for (const r of rs) {
    const x = row.pick(r)!, b = row.base(r);
    perSeed.push(`| ${row.name} | ${r.seed} | ${f3(x.hallucination_unknown)} (${(-100 * cut(b, x)).toFixed(0)}%) | ${f3(x.accuracy_known)} | ${f3(x.abstain_known)} | ${f3(x.accuracy_known_all64)} | ${x.fired === undefined ? '–' : f3(x.fired)} | ${row.name === 'base' ? '–' : meets(b, x) ? 'yes' : '**no**'} |`);
  }
  const worst = rs.reduce((w, r) => (row.pick(r)!.hallucination_unknown > row.pick(w)!.hallucination_unknown ? r : w));
  const met = rs.filter((r) => meets(row.base(r), row.pick(r)!)).map((r) => r.seed);
  summary.push(`| ${row.name} | ${ms(rs.map((r) => row.pick(r)!.hallucination_unknown))} | ${row.name === 'base' ? '–' : `${ms(rs.map((r) => -100 * cut(row.base(r), row.pick(r)!)), 0)}%`} | ${ms(rs.map((r) => row.pick(r)!.accuracy_known))} | ${ms(rs.map((r) => row.pick(r)!.abstain_known))} | ${worst.seed}: ${f3(row.pick(worst)!.hallucination_unknown)} | ${row.name === 'base' ? '–' : `${met.length}/${rs.length}${met.length ? ` (${met.join(', ')})` : ''}`} |`);
}
const kept = results.filter((r) => r.rl).map((r) => `| ${r.seed} | ${r.rl!.kept.step} | ${r.rl!.rows.map((c) => `${c.step}: ${f3(c.hallucination)}${c.known_lost ? ` (−${c.known_lost})` : ''}`).join(' · ')} |`);
const keptTable = kept.length ? ['| seed | kept step | validation hallucination per checkpoint (validation-known answers lost) |', '|---|---|---|', ...kept].join('\n') : '';
const out = [`seeds ${seeds.join(', ')}`, auc, summary.join('\n'), perSeed.join('\n'), keptTable].join('\n\n') + '\n';
const tag = `${seeds.join('-')}${noRl ? '-nrl' : ''}`;
writeFileSync(`${root}/table-${tag}.md`, out);
console.log(out);
