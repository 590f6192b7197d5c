// Runs the hallucination pipeline a → b, b' → c, d → eval for each seed and prints the README
// tables: the RL table (mean ± std over seeds, then each run's worst seed: the one with the
// most hallucinations) and the runtime-intervention table (entity probe → " unknown").
// The intervention table also has the confidence gate (confidence-gate.ts: the frozen base's own
// colour probability, its threshold from the validation split), on the base and on (c).
// node bin/run-ts.js scripts/hallucination/measure.ts [seeds=0,1,2,3,4] [--out DIR] [--reuse] [--rl c]
//   --out DIR  where runs and tables go (default runs/hallucination-measure)
//   --reuse    keep a stage whose output already exists under DIR (wasm runs are
//              deterministic, so this only skips recomputing it), the evaluation of a seed
//              included (DIR/seedN/result-<runs>.json); default: each seed starts fresh
//   --rl c     train and evaluate the frozen-probe run (c) only, not the live-probe run (d);
//              --rl none: no RL, the base and the interventions on it only
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { evalCheckpoints } from './eval.ts';
import { evalIntervention } from './intervention.ts';
import { evalConfidenceGate } from './confidence-gate.ts';
import { runBonsai } from './run-bonsai.ts';

const args = process.argv.slice(2);
const flag = (f: string) => { const i = args.indexOf(f); return i >= 0 ? args.splice(i, f === '--reuse' ? 1 : 2)[1] ?? '' : undefined; };
const root = flag('--out') || 'runs/hallucination-measure';
const reuse = flag('--reuse') !== undefined;
const rlRuns = (flag('--rl') || 'c,d').split(',');
const seeds = (args[0] ?? '0,1,2,3,4').split(',').map(Number);
const newest = (dir: string) => `${dir}/${readdirSync(dir).filter((d) => d.startsWith('step-')).sort().at(-1)}`;
const done = (dir: string, file = '') => reuse && existsSync(`${dir}${file}`);

type Row = Record<string, number>;
const rows: Record<string, Row[]> = { base: [], ...(rlRuns.includes('c') ? { 'c: frozen probe': [] } : {}), ...(rlRuns.includes('d') ? { 'd: live probe': [] } : {}) };
const ivRows: Record<string, Row[]> = {};
const ivPush = (k: string, r: object) => (ivRows[k] ??= []).push(r as Row);
type SeedResult = { rows: Record<string, Row>; iv: Record<string, Row> };
/** One seed's evaluation: each RL run's last checkpoint, the base, and the interventions on both. */
async function evalSeed(rl: readonly (readonly [string, string])[], d: string, base: string, probe: string, entity: string): Promise<SeedResult> {
  const out: SeedResult = { rows: {}, iv: {} };
  for (const [k, f] of rl) out.rows[k] = await evalCheckpoints(base, newest(`${d}/${f}`), probe) as unknown as Row;
  out.rows.base = await evalCheckpoints(base, base, probe) as unknown as Row;
  // The interventions on the base and on the frozen-probe policy: the entity probe at its own
  // threshold and at the known-safe one (intervention.ts says which is which), and the
  // confidence gate.
  const on = [['base', base], ...(rl.some(([k]) => k.startsWith('c')) ? [['c', newest(`${d}/c_rl_frozen_probe`)]] : [])] as const;
  for (const [k, ckpt] of on) {
    const r = await evalIntervention(base, ckpt, entity);
    const g = await evalConfidenceGate(base, ckpt, probe);
    out.iv[k === 'base' ? 'base' : 'c: frozen probe'] = r.plain as unknown as Row;
    out.iv[`${k} + intervention (probe threshold)`] = r.probe_threshold as unknown as Row;
    out.iv[`${k} + intervention (known-safe threshold)`] = r.known_safe as unknown as Row;
    out.iv[`${k} + confidence gate (validation threshold)`] = { ...g.gated, threshold: g.threshold, abstain_known_probe_unseen: g.gated.abstain_known_test_only } as unknown as Row;
  }
  return out;
}
for (const seed of seeds) {
  const d = `${root}/seed${seed}`;
  if (!reuse) rmSync(d, { recursive: true, force: true }); // this script's own output: a re-run starts fresh
  const s = ['--set', `run.seed=${seed}`];
  if (!done(`${d}/a`)) await runBonsai(['train', 'recipes/hallucination/a_sft_base.yaml', ...s, '--set', `run.out_dir=${d}/a`]);
  const base = newest(`${d}/a`);
  const ck = ['--set', `model.init.checkpoint=${base}`];
  const probe = `${d}/b/probes/halluc`;
  const entity = `${d}/b_entity/probes/entity`;
  if (!done(probe)) await runBonsai(['probe', 'train', 'recipes/hallucination/b_probe.yaml', ...s, ...ck, '--set', `run.out_dir=${d}/b`, '--set', `probes.0.train.seed=${seed}`]);
  if (!done(entity)) await runBonsai(['probe', 'train', 'recipes/hallucination/b_entity_probe.yaml', ...s, ...ck, '--set', `run.out_dir=${d}/b_entity`, '--set', `probes.0.train.seed=${seed}`]);
  // c, then d: one training process at a time (the machine's cores are shared).
  const rl = ([['c: frozen probe', 'c_rl_frozen_probe'], ['d: live probe', 'd_rl_live_probe']] as const).filter(([k]) => rlRuns.includes(k[0]!));
  for (const [, f] of rl) if (!done(`${d}/${f}`)) await runBonsai(['train', `recipes/hallucination/${f}.yaml`, ...s, ...ck, '--set', `run.out_dir=${d}/${f}`, '--set', `probes.0.checkpoint=${probe}`]);
  const cache = `${d}/result-${rlRuns.join('')}.json`;
  const r: SeedResult = done(cache) ? JSON.parse(readFileSync(cache, 'utf8')) : await evalSeed(rl, d, base, probe, entity);
  if (!done(cache)) { writeFileSync(`${cache}.tmp`, JSON.stringify(r)); renameSync(`${cache}.tmp`, cache); }
  for (const [k, v] of Object.entries(r.rows)) rows[k]!.push(v);
  for (const [k, v] of Object.entries(r.iv)) ivPush(k, v);
  console.error(`seed ${seed}: ${JSON.stringify(r.rows)}`);
}
const ms = (xs: number[]) => {
  if (xs.some((x) => x === undefined)) return '–';
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(3)} ± ${sd.toFixed(3)}`;
};
/** Mean ± std per column, then each run's worst seed (most hallucinations on unseen entities): a mean can hide one bad seed. */
function table(rs: Record<string, Row[]>, cols: string[]): string {
  const lines = [`| run (${seeds.length} seeds) | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`];
  for (const [k, v] of Object.entries(rs)) lines.push(`| ${k} | ${cols.map((c) => ms(v.map((r) => r[c]!))).join(' | ')} |`);
  for (const [k, v] of Object.entries(rs)) {
    const at = v.reduce((w, r, i) => (r.hallucination_unknown! > v[w]!.hallucination_unknown! ? i : w), 0);
    lines.push(`| ${k}, worst seed (${seeds[at]}) | ${cols.map((c) => (v[at]![c] === undefined ? '–' : v[at]![c]!.toFixed(3))).join(' | ')} |`);
  }
  return lines.join('\n');
}
const rlTable = table(rows, ['hallucination_unknown', 'malformed_unknown', 'accuracy_known', 'abstain_known', 'probe_auroc_frozen', 'probe_auroc_policy']);
const ivTable = table(ivRows, ['hallucination_unknown', 'accuracy_known', 'abstain_known', 'abstain_known_probe_unseen', 'fired']);
// Per seed: the cut in hallucinations, known accuracy, and the live probe's drift (its AUROC on
// the (d) policy's activations next to the frozen base's); then, per seed, each intervention row
// against the base, with the targets' verdict (≥ 60% fewer, known within 2 points, over-refusal ≤ 5%).
const pct = (a: number, b: number) => `${(100 * (b - a) / a).toFixed(0)}%`;
const cell = (b: Row, r: Row | undefined) => (r ? `${r.hallucination_unknown!.toFixed(3)} (${pct(b.hallucination_unknown!, r.hallucination_unknown!)}) | ${r.accuracy_known!.toFixed(3)}` : '– | –');
const perSeed = ['| seed | base halluc. | c halluc. (cut) | c known acc. | d halluc. (cut) | d known acc. | probe AUROC: base → c policy | probe AUROC: base → d policy |', '|---|---|---|---|---|---|---|---|',
  ...seeds.map((sd, i) => {
    const [b, c, d] = [rows.base![i]!, rows['c: frozen probe']?.[i], rows['d: live probe']?.[i]];
    const drift = (r: Row | undefined) => (r ? `${r.probe_auroc_frozen!.toFixed(3)} → ${r.probe_auroc_policy!.toFixed(3)}` : '–');
    return `| ${sd} | ${b.hallucination_unknown!.toFixed(3)} | ${cell(b, c)} | ${cell(b, d)} | ${drift(c)} | ${drift(d)} |`;
  })].join('\n');
const meets = (b: Row, r: Row) => r.hallucination_unknown! <= 0.4 * b.hallucination_unknown! + 1e-9 && r.accuracy_known! >= b.accuracy_known! - 0.02 && r.abstain_known! <= 0.05;
const ivPerSeed = ['| row | seed | hallucination (cut) | known acc. | over-refusal (all 64 / test-only 32) | meets all three |', '|---|---|---|---|---|---|',
  ...Object.entries(ivRows).filter(([k]) => k !== 'base').flatMap(([k, v]) => seeds.map((sd, i) => {
    const b = ivRows.base![i]!;
    const r = v[i]!;
    return `| ${k} | ${sd} | ${r.hallucination_unknown!.toFixed(3)} (${pct(b.hallucination_unknown!, r.hallucination_unknown!)}) | ${r.accuracy_known!.toFixed(3)} | ${r.abstain_known!.toFixed(3)} / ${r.abstain_known_probe_unseen?.toFixed(3) ?? "–"} | ${meets(b, r) ? 'yes' : '**no**'} |`;
  }))].join('\n');
const out = `${Object.keys(rows).length > 1 ? `${rlTable}\n\n${perSeed}\n\n` : ''}${ivTable}\n\n${ivPerSeed}\n`;
writeFileSync(`${root}/table-${rlRuns.join('')}.md`, out);
writeFileSync(`${root}/raw-${rlRuns.join('')}.json`, JSON.stringify({ seeds, rl: rows, intervention: ivRows }, null, 1));
console.log(out);
