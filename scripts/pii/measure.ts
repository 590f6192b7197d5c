// PII world: train the base (recipes/pii-base.yaml) and the token probe (recipes/pii-probe.yaml)
// per seed, then measure token F1 and span F1 (src/data/tasks/pii-score.ts) in distribution
// (data/pii/eval-id.jsonl) and on the shifted family (data/pii/eval-ood.jsonl).
//   nice -n 10 node bin/run-ts.js scripts/pii/measure.ts [--seeds 0,1,2,3,4] [--hook H] [--out runs/pii]
//     [--set PATH=V (base recipe)] [--probe-set PATH=V (probe recipe) --tag NAME (probe dir probe-NAME)]
//     [--sae RECIPE [--sae-set PATH=V]: train that job: sae recipe per seed into <out>/seed-S/sae (reused
//      when there) and probe its latents (features: sae); docs/results/sae.md]
// A seed whose base or probe is already under <out>/seed-S is reused, not retrained.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/backend/index.ts';
import { PII_KINDS, readPiiRecords, tokenCharRanges, tokenLabels, type PiiRecord } from '../../src/data/tasks/pii.ts';
import { addCounts, f1Of, type F1Counts } from '../../src/data/tasks/pii-score.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { loadProbe } from '../../src/probes/io.ts';
import { auroc } from '../../src/probes/metrics.ts';
import { ensureRecipeProbe } from '../../src/probes/recipe.ts';
import type { Probe } from '../../src/probes/probe.ts';
import { scoreTokens } from '../../src/probes/token-scores.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { loadSaeRecipe } from '../../src/recipe/index.ts';
import { runSaeJob } from '../../src/sae/job.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { latestCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';
import type { CausalLM } from '../../src/models/model.ts';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '0,1,2,3,4' }, hook: { type: 'string' }, out: { type: 'string', default: 'runs/pii' }, set: { type: 'string', multiple: true, default: [] }, 'probe-set': { type: 'string', multiple: true, default: [] }, tag: { type: 'string', default: '' }, sae: { type: 'string' }, 'sae-set': { type: 'string', multiple: true, default: [] } } });
const seeds = values.seeds.split(',').map(Number);
const tok = createTokenizer('byte');
const sets = { id: readPiiRecords('data/pii/eval-id.jsonl'), ood: readPiiRecords('data/pii/eval-ood.jsonl') };

/** Token and span counts of `probe` on `rows`, at the probe's own threshold. */
function measure(frozen: CausalLM, probe: Probe, rows: PiiRecord[]) {
  const labelled = rows.map((r) => tokenLabels(tok, r));
  const scores = scoreTokens(frozen, probe, labelled.map((l) => l.ids));
  const token: F1Counts = { tp: 0, fp: 0, fn: 0 }, span: F1Counts = { tp: 0, fp: 0, fn: 0 };
  // Token recall per kind: of the tokens inside spans of that kind, the share flagged.
  const hit = Object.fromEntries(PII_KINDS.map((k) => [k, [0, 0]]));
  labelled.forEach((l, i) => {
    const flags = Array.from(scores[i]!, (s) => (s >= probe.meta.threshold ? 1 : 0));
    addCounts(token, span, l.labels, flags);
    tokenCharRanges(tok, rows[i]!.text, l.ids).forEach(([a, b], t) => {
      const s = rows[i]!.spans.find((x) => a < x.end && x.start < Math.max(b, a + 1));
      if (s) (hit[s.kind]![0] += flags[t]!, hit[s.kind]![1]++);
    });
  });
  const recallByKind = Object.fromEntries(Object.entries(hit).map(([k, [h, n]]) => [k, n ? h / n : NaN]));
  // Threshold-free: token AUROC over every token of the set (a shift can move the best threshold).
  const tokenAuroc = auroc(scores.flatMap((s) => Array.from(s)), labelled.flatMap((l) => l.labels));
  return { token: f1Of(token), span: f1Of(span), tokenAuroc, recallByKind };
}

await initBackend('auto');
const results: Array<{ seed: number; probe_auroc: number; id: ReturnType<typeof measure>; ood: ReturnType<typeof measure> }> = [];
for (const seed of seeds) {
  const dir = join(values.out, `seed-${seed}`);
  const common = ['tracking.uri=none', `run.seed=${seed}`];
  const a = loadRecipe('recipes/pii-base.yaml', { overrides: [...common, `run.out_dir=${join(dir, 'base')}`, ...values.set] });
  let ck = existsSync(join(dir, 'base')) ? latestCheckpoint(join(dir, 'base')) : undefined;
  if (!ck) ck = (await train(a, { tracker: new NullTracker() })).checkpoint!;
  const saeSets: string[] = [];
  if (values.sae) {
    const sdir = join(dir, 'sae');
    if (!existsSync(join(sdir, 'sae.json'))) {
      const s = loadSaeRecipe(values.sae, { overrides: [...common, `model.init.checkpoint=${ck}`, `sae.out=${sdir}`, ...(values.hook ? [`sae.hook=${values.hook}`] : []), ...values['sae-set']] });
      console.error(`seed ${seed}: sae ${JSON.stringify(runSaeJob(s))}`);
    }
    saeSets.push('probes.0.features=sae', `probes.0.sae=${sdir}`);
  }
  const b = loadRecipe('recipes/pii-probe.yaml', { overrides: [...common, `model.init.checkpoint=${ck}`, `run.out_dir=${join(dir, values.tag ? `probe-${values.tag}` : 'probe')}`, `probes.0.train.seed=${seed}`, ...(values.hook ? [`probes.0.hook=${values.hook}`] : []), ...saeSets, ...values['probe-set']] });
  const model = buildModel(b, tok);
  const frozen = model.frozenCopy();
  model.dispose();
  const probe = loadProbe(await ensureRecipeProbe(b, frozen, tok), frozen);
  const r = { seed, probe_auroc: probe.meta.metrics.auroc, id: measure(frozen, probe, sets.id), ood: measure(frozen, probe, sets.ood) };
  results.push(r);
  console.error(`seed ${seed}: ${JSON.stringify(r)}`);
  probe.dispose();
  frozen.dispose();
}

const f = (v: number) => v.toFixed(3);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const cols: Array<[string, (r: (typeof results)[number]) => number]> = [
  ['token F1 (ID)', (r) => r.id.token.f1], ['span F1 (ID)', (r) => r.id.span.f1],
  ['token F1 (OOD)', (r) => r.ood.token.f1], ['span F1 (OOD)', (r) => r.ood.span.f1],
  ['token P / R (OOD)', (r) => r.ood.token.precision], ['', (r) => r.ood.token.recall],
];
const lines = [
  `| seed | held-out AUROC | token F1 (ID) | span F1 (ID) | token F1 (OOD) | span F1 (OOD) | token precision (OOD) | token recall (OOD) |`,
  `|---|---|---|---|---|---|---|---|`,
  ...results.map((r) => `| ${r.seed} | ${f(r.probe_auroc)} | ${cols.map(([, g]) => f(g(r))).join(' | ')} |`),
  `| mean ± std | ${f(mean(results.map((r) => r.probe_auroc)))} ± ${f(std(results.map((r) => r.probe_auroc)))} | ${cols.map(([, g]) => `${f(mean(results.map(g)))} ± ${f(std(results.map(g)))}`).join(' | ')} |`,
];
// A mean can hide one bad seed: the seed with the lowest out-of-distribution token F1.
const worst = results.reduce((w, r) => (r.ood.token.f1 < w.ood.token.f1 ? r : w), results[0]!);
lines.push(`| worst seed (${worst.seed}, lowest OOD token F1) | ${f(worst.probe_auroc)} | ${cols.map(([, g]) => f(g(worst))).join(' | ')} |`);
const kinds = ['| set | ' + PII_KINDS.join(' | ') + ' |', `|---|${PII_KINDS.map(() => '---').join('|')}|`,
  ...(['id', 'ood'] as const).map((set) => `| ${set.toUpperCase()} | ${PII_KINDS.map((k) => `${f(mean(results.map((r) => r[set].recallByKind[k]!)))}`).join(' | ')} |`)];
console.log(`${lines.join('\n')}\n\ntoken recall by kind (mean over seeds):\n\n${kinds.join('\n')}`);
writeFileSync(join(values.out, `measure${values.tag ? `-${values.tag}` : ''}-${values.seeds}.json`), `${JSON.stringify(results, null, 1)}\n`);
