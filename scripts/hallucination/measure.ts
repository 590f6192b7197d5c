// Runs the hallucination pipeline a → b → c, d → eval for each seed and prints the README
// table (mean ± std over seeds, then each run's worst seed: the one with the most hallucinations).
// node bin/run-ts.js scripts/hallucination/measure.ts [seeds=0,1,2,3,4]
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { evalCheckpoints } from './eval.ts';

const seeds = (process.argv[2] ?? '0,1,2,3,4').split(',').map(Number);
const root = 'runs/hallucination-measure';
const bonsai = (args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/bonsai.js', ...args, '--set', 'tracking.uri=none'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bonsai ${args.join(' ')} failed:\n${r.stderr}`);
};
/** As bonsai(), but in the background: c and d of one seed run side by side (one core each). */
const bonsaiAsync = (args: string[]) =>
  new Promise<void>((ok, fail) => {
    const p = spawn(process.execPath, ['bin/bonsai.js', ...args, '--set', 'tracking.uri=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`bonsai ${args.join(' ')} failed:\n${err}`))));
  });
const newest = (dir: string) => `${dir}/${readdirSync(dir).filter((d) => d.startsWith('step-')).sort().at(-1)}`;

type Row = Record<string, number>;
const rows: Record<string, Row[]> = { base: [], 'c: frozen probe': [], 'd: live probe': [] };
for (const seed of seeds) {
  const d = `${root}/seed${seed}`;
  rmSync(d, { recursive: true, force: true }); // this script's own output: a re-run starts fresh
  const s = ['--set', `run.seed=${seed}`];
  bonsai(['train', 'recipes/hallucination/a_sft_base.yaml', ...s, '--set', `run.out_dir=${d}/a`]);
  const base = newest(`${d}/a`);
  const ck = ['--set', `model.init.checkpoint=${base}`];
  bonsai(['probe', 'train', 'recipes/hallucination/b_probe.yaml', ...s, ...ck, '--set', `run.out_dir=${d}/b`, '--set', `probes.0.train.seed=${seed}`]);
  const probe = `${d}/b/probes/halluc`;
  const rl = [['c: frozen probe', 'c_rl_frozen_probe'], ['d: live probe', 'd_rl_live_probe']] as const;
  await Promise.all(rl.map(([, f]) => bonsaiAsync(['train', `recipes/hallucination/${f}.yaml`, ...s, ...ck, '--set', `run.out_dir=${d}/${f}`, '--set', `probes.0.checkpoint=${probe}`])));
  for (const [k, f] of rl) rows[k]!.push(await evalCheckpoints(base, newest(`${d}/${f}`), probe) as unknown as Row);
  rows.base!.push(await evalCheckpoints(base, base, probe) as unknown as Row);
  console.error(`seed ${seed}: ${JSON.stringify({ base: rows.base!.at(-1), c: rows['c: frozen probe']!.at(-1), d: rows['d: live probe']!.at(-1) })}`);
}
const ms = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(3)} ± ${sd.toFixed(3)}`;
};
const cols = ['hallucination_unknown', 'malformed_unknown', 'accuracy_known', 'abstain_known', 'probe_auroc_frozen', 'probe_auroc_policy'];
const lines = [`| run (${seeds.length} seeds) | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`];
for (const [k, rs] of Object.entries(rows)) lines.push(`| ${k} | ${cols.map((c) => ms(rs.map((r) => r[c]!))).join(' | ')} |`);
// A mean can hide one bad seed: show each run's seed with the most hallucinations on unseen entities.
for (const [k, rs] of Object.entries(rows)) {
  const at = rs.reduce((w, r, i) => (r.hallucination_unknown! > rs[w]!.hallucination_unknown! ? i : w), 0);
  lines.push(`| ${k}, worst seed (${seeds[at]}) | ${cols.map((c) => rs[at]![c]!.toFixed(3)).join(' | ')} |`);
}
const table = lines.join('\n');
writeFileSync(`${root}/table.md`, `${table}\n`);
writeFileSync(`${root}/raw.json`, JSON.stringify(rows, null, 1));
console.log(table);
