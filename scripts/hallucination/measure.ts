// Runs the hallucination pipeline a → b, b' → c, d → eval for each seed and prints the README
// tables: the RL table (mean ± std over seeds, then each run's worst seed: the one with the
// most hallucinations) and the runtime-intervention table (entity probe → " unknown").
// Each RL run's checkpoint (one every 50 steps) is chosen on the validation split by
// select.ts, never on the test entities; every checkpoint's test numbers are printed too.
// node bin/run-ts.js scripts/hallucination/measure.ts [seeds=0,1,2,3,4] [--out DIR] [--reuse] [--rl c]
//   --out DIR  where runs and tables go (default runs/hallucination-measure)
//   --reuse    keep a stage whose output already exists under DIR (wasm runs are
//              deterministic, so this only skips recomputing it), the evaluation of a seed
//              included (DIR/seedN/result-<runs>.json); default: each seed starts fresh
//   --rl c     train and evaluate the frozen-probe run (c) only, not the live-probe run (d)
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { evalCheckpoints } from './eval.ts';
import { evalIntervention } from './intervention.ts';
import { answerRates } from '../../src/data/tasks/hallucination-eval.ts';
import { selectCheckpoint, testOnlyKnown } from './select.ts';
import { loadHallucinationRun } from './eval.ts';

const args = process.argv.slice(2);
const flag = (f: string) => { const i = args.indexOf(f); return i >= 0 ? args.splice(i, f === '--reuse' ? 1 : 2)[1] ?? '' : undefined; };
const root = flag('--out') || 'runs/hallucination-measure';
const reuse = flag('--reuse') !== undefined;
const rlRuns = (flag('--rl') || 'c,d').split(',');
const seeds = (args[0] ?? '0,1,2,3,4').split(',').map(Number);
/** One bonsai command in a child process; rejects with its stderr. */
const run = (args: string[]) =>
  new Promise<void>((ok, fail) => {
    const p = spawn(process.execPath, ['bin/bonsai.js', ...args, '--set', 'tracking.uri=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`bonsai ${args.join(' ')} failed:\n${err}`))));
  });
const newest = (dir: string) => `${dir}/${readdirSync(dir).filter((d) => d.startsWith('step-')).sort().at(-1)}`;
const done = (dir: string, file = '') => reuse && existsSync(`${dir}${file}`);

type Row = Record<string, number>;
const rows: Record<string, Row[]> = { base: [], 'c: frozen probe': [], ...(rlRuns.includes('d') ? { 'd: live probe': [] } : {}) };
const ivRows: Record<string, Row[]> = {};
const ivPush = (k: string, r: object) => (ivRows[k] ??= []).push(r as Row);
/** Per run and seed: each checkpoint's validation and test numbers, and the chosen step. */
const trace: string[] = ['| seed | run | step | val halluc. | val known acc. | test halluc. | test known acc. (64) | test-only known acc. (32) | chosen |', '|---|---|---|---|---|---|---|---|---|'];
/** The checkpoint select.ts keeps (the base where none qualifies), with every candidate traced. */
async function chosen(seed: number, key: string, base: string, runDir: string, probe: string, lines: string[]): Promise<{ dir: string; step: number; heldKnown: number }> {
  const sel = await selectCheckpoint(base, runDir, probe);
  let heldKnown = NaN;
  for (const c of [{ step: 0, dir: base, val: sel.base }, ...sel.candidates]) {
    // Test numbers of every candidate, for the record only: the choice above never reads them.
    const run = await loadHallucinationRun(base, c.dir, probe);
    const t = answerRates(run.world, run.policy, run.tok);
    const h = answerRates(testOnlyKnown(run.world), run.policy, run.tok).accuracy_known;
    run.dispose();
    const isChosen = (sel.chosen?.step ?? 0) === c.step;
    if (isChosen) heldKnown = h;
    lines.push(`| ${seed} | ${key} | ${c.step} | ${c.val.hallucination_unknown.toFixed(3)} | ${c.val.accuracy_known.toFixed(3)} | ${t.hallucination_unknown.toFixed(3)} | ${t.accuracy_known.toFixed(3)} | ${h.toFixed(3)} | ${isChosen ? '**yes**' : ''} |`);
  }
  return { dir: sel.chosen?.dir ?? base, step: sel.chosen?.step ?? 0, heldKnown };
}
type SeedResult = { rows: Record<string, Row>; iv: Record<string, Row>; trace: string[] };
/** One seed's evaluation: each RL run at its validation-chosen checkpoint, the base, and the intervention on both. */
async function evalSeed(seed: number, rl: readonly (readonly [string, string])[], d: string, base: string, probe: string, entity: string): Promise<SeedResult> {
  const out: SeedResult = { rows: {}, iv: {}, trace: [] };
  const picked: Record<string, string> = {};
  for (const [k, f] of rl) {
    const c = await chosen(seed, k[0]!, base, `${d}/${f}`, probe, out.trace);
    picked[k[0]!] = c.dir;
    out.rows[k] = { ...(await evalCheckpoints(base, c.dir, probe)), step: c.step, accuracy_known_test_only: c.heldKnown } as unknown as Row;
  }
  out.rows.base = await evalCheckpoints(base, base, probe) as unknown as Row;
  // The intervention on the base and on the frozen-probe policy, at the probe's own threshold
  // and at the known-safe one (intervention.ts says which is which).
  for (const [k, ckpt] of [['base', base], ['c', picked.c!]] as const) {
    const r = await evalIntervention(base, ckpt, entity);
    out.iv[k === 'base' ? 'base' : 'c: frozen probe'] = r.plain as unknown as Row;
    out.iv[`${k} + intervention (probe threshold)`] = r.probe_threshold as unknown as Row;
    out.iv[`${k} + intervention (known-safe threshold)`] = r.known_safe as unknown as Row;
  }
  return out;
}
for (const seed of seeds) {
  const d = `${root}/seed${seed}`;
  if (!reuse) rmSync(d, { recursive: true, force: true }); // this script's own output: a re-run starts fresh
  const s = ['--set', `run.seed=${seed}`];
  if (!done(`${d}/a`)) await run(['train', 'recipes/hallucination/a_sft_base.yaml', ...s, '--set', `run.out_dir=${d}/a`]);
  const base = newest(`${d}/a`);
  const ck = ['--set', `model.init.checkpoint=${base}`];
  const probe = `${d}/b/probes/halluc`;
  const entity = `${d}/b_entity/probes/entity`;
  if (!done(probe)) await run(['probe', 'train', 'recipes/hallucination/b_probe.yaml', ...s, ...ck, '--set', `run.out_dir=${d}/b`, '--set', `probes.0.train.seed=${seed}`]);
  if (!done(entity)) await run(['probe', 'train', 'recipes/hallucination/b_entity_probe.yaml', ...s, ...ck, '--set', `run.out_dir=${d}/b_entity`, '--set', `probes.0.train.seed=${seed}`]);
  // c, then d: one training process at a time (the machine's cores are shared).
  const rl = ([['c: frozen probe', 'c_rl_frozen_probe'], ['d: live probe', 'd_rl_live_probe']] as const).filter(([k]) => rlRuns.includes(k[0]!));
  for (const [, f] of rl) if (!done(`${d}/${f}`)) await run(['train', `recipes/hallucination/${f}.yaml`, ...s, ...ck, '--set', `run.out_dir=${d}/${f}`, '--set', `probes.0.checkpoint=${probe}`]);
  const cache = `${d}/result-${rlRuns.join('')}.json`;
  const r: SeedResult = done(cache) ? JSON.parse(readFileSync(cache, 'utf8')) : await evalSeed(seed, rl, d, base, probe, entity);
  if (!done(cache)) { writeFileSync(`${cache}.tmp`, JSON.stringify(r)); renameSync(`${cache}.tmp`, cache); }
  for (const [k, v] of Object.entries(r.rows)) rows[k]!.push(v);
  for (const [k, v] of Object.entries(r.iv)) ivPush(k, v);
  trace.push(...r.trace);
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
// the (d) policy's activations next to the frozen base's).
const pct = (a: number, b: number) => `${(100 * (b - a) / a).toFixed(0)}%`;
const perSeed = ['| seed | base halluc. | c step | c halluc. (cut) | c known acc. (64 / test-only 32) | d step | d halluc. (cut) | d known acc. (64 / test-only 32) | probe AUROC: base → d policy |', '|---|---|---|---|---|---|---|---|---|',
  ...seeds.map((sd, i) => {
    const [b, c, dd] = [rows.base![i]!, rows['c: frozen probe']![i]!, rows['d: live probe']?.[i]];
    const d = dd ? `${dd.step} | ${dd.hallucination_unknown!.toFixed(3)} (${pct(b.hallucination_unknown!, dd.hallucination_unknown!)}) | ${dd.accuracy_known!.toFixed(3)} / ${dd.accuracy_known_test_only!.toFixed(3)} | ${dd.probe_auroc_frozen!.toFixed(3)} → ${dd.probe_auroc_policy!.toFixed(3)}` : '– | – | – | –';
    return `| ${sd} | ${b.hallucination_unknown!.toFixed(3)} | ${c.step} | ${c.hallucination_unknown!.toFixed(3)} (${pct(b.hallucination_unknown!, c.hallucination_unknown!)}) | ${c.accuracy_known!.toFixed(3)} / ${c.accuracy_known_test_only!.toFixed(3)} | ${d} |`;
  })].join('\n');
writeFileSync(`${root}/table.md`, `${rlTable}\n\n${perSeed}\n\n${ivTable}\n\n${trace.join('\n')}\n`);
writeFileSync(`${root}/raw.json`, JSON.stringify({ seeds, rl: rows, intervention: ivRows }, null, 1));
console.log(`${rlTable}\n\n${perSeed}\n\n${ivTable}\n\n${trace.join('\n')}`);
