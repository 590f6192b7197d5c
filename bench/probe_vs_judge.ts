// Probe vs judge (docs/results/probe-vs-judge.md): the same detection — a hallucinated answer
// (hallucination world) and a PII token (PII world) — done by (a) the probe on the frozen pass
// and (b) a judge, the base model taught the labelling format on the probe's training data and
// read from its next-token logits. Per world: quality of each side on the eval set, FLOPs per
// sequence from the shapes (src/models/flops.ts), and wall time per sequence measured side by
// side in this one process (probe and judge alternate, rep by rep, on the same sequences).
//   nice -n 10 node bin/run-ts.js bench/probe_vs_judge.ts [--seeds 0] [--worlds halluc,pii] [--reps 5] [--timing-texts 40] [--out FILE]
//   node bin/run-ts.js bench/probe_vs_judge.ts --from FILE,FILE,...   (the tables from saved results, measuring nothing:
//     seeds and worlds measured in separate runs are printed together, with mean ± std over their seeds)
// Trains what is missing (base, probe, judge) from the shipped recipes: the hallucination world
// under runs/probe-vs-judge/halluc-seedS, the PII world under runs/pii/seed-S (the directory
// scripts/pii/measure.ts uses, so its base and probe are reused). Writes runs/probe-vs-judge/result.json (or --out).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.ts';
import { createTokenizer } from '../src/models/tokenizer.ts';
import { flopsPerSequence, hallucinationItems, judgeQueries, judgeSide, piiItems, probeSide, quality, type Item } from './judge/compare.ts';
import { setUp, WORLDS, type WorldName } from './judge/setup.ts';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '0' }, worlds: { type: 'string', default: 'halluc,pii' }, reps: { type: 'string', default: '5' }, 'timing-texts': { type: 'string', default: '40' }, out: { type: 'string', default: 'runs/probe-vs-judge/result.json' }, from: { type: 'string' } } });
// --from: results saved by earlier runs, in file order; their seeds replace --seeds.
const readSaved = (file: string): object[] => {
  const r = (() => { try { return JSON.parse(readFileSync(file, 'utf8')) as { results?: unknown }; } catch (e) { throw new Error(`--from ${file}: ${(e as Error).message}`); } })();
  if (!Array.isArray(r.results)) throw new Error(`--from ${file}: no "results" array (not a result file of this bench)`);
  return r.results as object[];
};
const saved = values.from?.split(',').flatMap(readSaved);
const seeds = saved ? [...new Set(saved.map((r) => (r as { seed: number }).seed))] : values.seeds.split(',').map(Number);
const worlds = values.worlds.split(',') as WorldName[];
for (const w of worlds) if (!(w in WORLDS)) throw new Error(`--worlds: unknown world "${w}" (halluc, pii)`);
const reps = Number(values.reps);
const backend = await initBackend('auto');
const tok = createTokenizer('byte');
const log = (s: string) => console.error(s);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Median ms of each side over `reps` alternating runs, after one warm-up run of each. */
function sideBySide(probe: () => unknown, judge: () => unknown) {
  probe(), judge();
  const t: { probe: number[]; judge: number[] } = { probe: [], judge: [] };
  for (let r = 0; r < reps; r++) {
    for (const [k, f] of [['probe', probe], ['judge', judge]] as const) {
      const t0 = performance.now();
      f();
      t[k].push(performance.now() - t0);
    }
  }
  return { probe: median(t.probe), judge: median(t.judge) };
}

const results: object[] = saved ?? [];
for (const seed of saved ? [] : seeds) {
  for (const world of worlds) {
    const w = WORLDS[world];
    const dir = world === 'pii' ? `runs/pii/seed-${seed}` : `runs/probe-vs-judge/halluc-seed${seed}`;
    const trio = await setUp(world, seed, dir, tok, log);
    const sets: Array<[string, Item[]]> = world === 'halluc' ? [['eval', hallucinationItems(tok)]] : [['ID', piiItems(tok, 'data/pii/eval-id.jsonl')], ['OOD', piiItems(tok, 'data/pii/eval-ood.jsonl')]];
    for (const [set, items] of sets) {
      const queries = judgeQueries(tok, w.format, items, w.level);
      const probeQ = quality(items, probeSide(trio.frozen, trio.probe, items, w.level), trio.probe.meta.threshold);
      const judgeQ = quality(items, judgeSide(trio.judge, tok, w.format, queries), 0);
      const flops = flopsPerSequence(trio.frozen.config, trio.probe, items, queries);
      // Timing on the first --timing-texts texts (the per-token judge is slow); both sides the same texts.
      const n = world === 'halluc' ? items.length : Math.min(items.length, Number(values['timing-texts']));
      const load0 = loadavg()[0]!;
      const ms = sideBySide(() => probeSide(trio.frozen, trio.probe, items.slice(0, n), w.level), () => judgeSide(trio.judge, tok, w.format, queries.slice(0, n)));
      const r = { world, set, seed, backend, probe: probeQ, judge: judgeQ, flops, wall_ms_per_sequence: { probe: ms.probe / n, judge: ms.judge / n, timed_sequences: n, reps }, load_average_1min: [load0, loadavg()[0]!] };
      results.push(r);
      log(JSON.stringify(r));
    }
    trio.dispose();
  }
}

const f3 = (x: number) => x.toFixed(3);
const sci = (x: number) => x.toExponential(2);
const lines = [
  '| world / set (seed) | probe acc | judge acc | probe AUROC | judge AUROC | probe token F1 | judge token F1 | FLOPs/seq probe (as run) | FLOPs/seq judge (as run) | FLOPs ratio | FLOPs/seq probe head only | wall ms/seq probe | wall ms/seq judge | wall ratio |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...results.map((x) => {
    const r = x as { world: string; set: string; seed: number; probe: ReturnType<typeof quality>; judge: ReturnType<typeof quality>; flops: ReturnType<typeof flopsPerSequence>; wall_ms_per_sequence: { probe: number; judge: number } };
    const tokenLevel = r.world === 'pii';
    return `| ${r.world} / ${r.set} (${r.seed}) | ${f3(r.probe.accuracy)} | ${f3(r.judge.accuracy)} | ${f3(r.probe.auroc)} | ${f3(r.judge.auroc)} | ${tokenLevel ? f3(r.probe.f1) : '–'} | ${tokenLevel ? f3(r.judge.f1) : '–'} | ${sci(r.flops.probe_as_run)} | ${sci(r.flops.judge_as_run)} | ${(r.flops.judge_as_run / r.flops.probe_as_run).toFixed(1)}× | ${sci(r.flops.probe_head_only)} | ${r.wall_ms_per_sequence.probe.toFixed(2)} | ${r.wall_ms_per_sequence.judge.toFixed(2)} | ${(r.wall_ms_per_sequence.judge / r.wall_ms_per_sequence.probe).toFixed(1)}× |`;
  }),
];
// Over seeds: mean ± sample std per world and set (each seed's own probe, judge and timing).
type R = { world: string; set: string; probe: ReturnType<typeof quality>; judge: ReturnType<typeof quality>; flops: ReturnType<typeof flopsPerSequence>; wall_ms_per_sequence: { probe: number; judge: number } };
const ms = (xs: number[], d = 3) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(d)} ± ${sd.toFixed(d)}`;
};
if (seeds.length > 1) {
  lines.push('', `| world / set (${seeds.length} seeds: ${seeds.join(', ')}) | probe acc | judge acc | probe AUROC | judge AUROC | probe token F1 | judge token F1 | FLOPs ratio judge/probe (as run) | FLOPs ratio judge/probe head | wall ratio judge/probe |`, '|---|---|---|---|---|---|---|---|---|---|');
  for (const key of [...new Set(results.map((x) => `${(x as R).world} / ${(x as R).set}`))]) {
    const rs = (results as R[]).filter((r) => `${r.world} / ${r.set}` === key);
    const c = (g: (r: R) => number, d = 3) => ms(rs.map(g), d);
    const tokenLevel = rs[0]!.world === 'pii';
    lines.push(`| ${key} | ${c((r) => r.probe.accuracy)} | ${c((r) => r.judge.accuracy)} | ${c((r) => r.probe.auroc)} | ${c((r) => r.judge.auroc)} | ${tokenLevel ? c((r) => r.probe.f1) : '–'} | ${tokenLevel ? c((r) => r.judge.f1) : '–'} | ${c((r) => r.flops.judge_as_run / r.flops.probe_as_run, 1)} | ${c((r) => r.flops.judge_as_run / r.flops.probe_head_only, 0)} | ${c((r) => r.wall_ms_per_sequence.judge / r.wall_ms_per_sequence.probe, 1)} |`);
  }
}
if (!saved) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(`${values.out}.tmp`, JSON.stringify({ backend, results, table: lines }, null, 1));
  renameSync(`${values.out}.tmp`, values.out);
}
console.log(lines.join('\n'));
