// Prints docs/results/sae.md's tables (mean ± std over seeds, then every seed and the worst) from the measure outputs:
//   runs/pii/measure-<seeds>.json and measure-sae-<seeds>.json (scripts/pii/measure.ts, raw and --sae),
//   runs/sae-halluc/compare-<seed>.json (scripts/sae/halluc-probes.ts, one file per seed or one for all).
//   node bin/run-ts.js scripts/sae/table.ts [--seeds 0,1,2,3,4] [--pii runs/pii] [--halluc runs/sae-halluc]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '0,1,2,3,4' }, pii: { type: 'string', default: 'runs/pii' }, halluc: { type: 'string', default: 'runs/sae-halluc' } } });
const seeds = values.seeds.split(',').map(Number);
const read = (f: string) => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Array<Record<string, any>>) : []);
/** Rows for `seeds` from one file for all of them, or one file per seed. */
const rows = (dir: string, prefix: string) => {
  const all = [...read(join(dir, `${prefix}${values.seeds}.json`)), ...seeds.flatMap((s) => read(join(dir, `${prefix}${s}.json`)))];
  return seeds.map((s) => all.find((r) => r.seed === s)).filter((r) => r !== undefined);
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const ms = (xs: number[]) => (xs.length ? `${mean(xs).toFixed(3)} ± ${std(xs).toFixed(3)}` : 'n/a');

const raw = rows(values.pii, 'measure-');
const sae = rows(values.pii, 'measure-sae-');
const piiCols: Array<[string, (r: Record<string, any>) => number]> = [
  ['token AUROC (ID)', (r) => r.id.tokenAuroc], ['token F1 (ID)', (r) => r.id.token.f1], ['span F1 (ID)', (r) => r.id.span.f1],
  ['token AUROC (OOD)', (r) => r.ood.tokenAuroc], ['token F1 (OOD)', (r) => r.ood.token.f1], ['span F1 (OOD)', (r) => r.ood.span.f1],
];
console.log(`PII world, token-level MLP probe at blocks.1.hook_resid_post (seeds ${raw.map((r) => r.seed).join(',')} raw; ${sae.map((r) => r.seed).join(',')} SAE)\n`);
console.log(`| features | ${piiCols.map(([c]) => c).join(' | ')} |\n|---|${piiCols.map(() => '---').join('|')}|`);
for (const [name, rs] of [['raw activations', raw], ['SAE latents', sae]] as const) console.log(`| ${name} | ${piiCols.map(([, g]) => ms(rs.map(g))).join(' | ')} |`);
// A mean can hide one bad seed: every seed's row, and per side the seed with the lowest out-of-distribution token F1.
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const lowest = <T,>(rs: T[], g: (r: T) => number) => rs.reduce((w, r) => (g(r) < g(w) ? r : w), rs[0]!);
console.log(`\n| features | seed | ${piiCols.map(([c]) => c).join(' | ')} |\n|---|---|${piiCols.map(() => '---').join('|')}|`);
for (const [name, rs] of [['raw', raw], ['SAE', sae]] as const) {
  for (const r of rs) console.log(`| ${name} | ${r.seed} | ${piiCols.map(([, g]) => f3(g(r))).join(' | ')} |`);
  if (rs.length) console.log(`| ${name}, worst seed (lowest OOD token F1) | ${lowest(rs, (r) => r.ood.token.f1).seed} | ${piiCols.map(([, g]) => f3(g(lowest(rs, (r) => r.ood.token.f1)))).join(' | ')} |`);
}

const h = rows(values.halluc, 'compare-');
const hCols: Array<[string, (s: Record<string, number>) => number]> = [
  ['AUROC (ID held-out)', (s) => s.auroc_id], ['TPR@1%FPR (ID)', (s) => s.tpr1_id], ['AUROC (eval-only entities)', (s) => s.auroc_ood], ['TPR@1%FPR (eval-only)', (s) => s.tpr1_ood],
];
console.log(`\nHallucination world, token-level MLP probe at blocks.1.hook_resid_post (seeds ${h.map((r) => r.seed).join(',')})\n`);
console.log(`| features | ${hCols.map(([c]) => c).join(' | ')} |\n|---|${hCols.map(() => '---').join('|')}|`);
for (const k of ['raw', 'sae'] as const) console.log(`| ${k === 'raw' ? 'raw activations' : 'SAE latents'} | ${hCols.map(([, g]) => ms(h.map((r) => g(r[k])))).join(' | ')} |`);
console.log(`\n| features | seed | ${hCols.map(([c]) => c).join(' | ')} |\n|---|---|${hCols.map(() => '---').join('|')}|`);
for (const k of ['raw', 'sae'] as const) {
  for (const r of h) console.log(`| ${k} | ${r.seed} | ${hCols.map(([, g]) => f3(g(r[k]))).join(' | ')} |`);
  const w = h.length ? lowest(h, (r) => r[k].auroc_ood) : undefined;
  if (w) console.log(`| ${k}, worst seed (lowest eval-only AUROC) | ${w.seed} | ${hCols.map(([, g]) => f3(g(w[k]))).join(' | ')} |`);
}

const fromFile = (world: string, seed: number) => {
  const f = world === 'pii' ? join(values.pii, `seed-${seed}`, 'sae', 'sae.json') : join(values.halluc, `seed${seed}`, 'sae', 'sae.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')).metrics : undefined;
};
console.log('\nSAEs (held-out rows): MSE, fraction of variance explained, dead latents, mean L0\n\n| world | seed | MSE | FVE | dead fraction | L0 |\n|---|---|---|---|---|---|');
for (const [world, seed] of [...sae.map((r) => ['pii', r.seed] as const), ...h.map((r) => ['hallucination', r.seed] as const)]) {
  const m = fromFile(world, seed);
  if (m) console.log(`| ${world} | ${seed} | ${m.mse.toFixed(4)} | ${m.fve.toFixed(3)} | ${m.dead_fraction.toFixed(3)} | ${m.l0.toFixed(1)} |`);
}
