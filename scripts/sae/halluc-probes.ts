// Hallucination world: raw-activation vs SAE-latent token probes on the frozen base, per seed.
// Trains (or reuses) the base (recipes/hallucination/a_sft_base.yaml), the raw probe
// (b_probe.yaml), the SAE (recipes/hallucination/sae.yaml) and the SAE-latent probe (b_probe.yaml
// with features: sae), then scores both probes in distribution (the held-out rows of
// probe.jsonl) and on the eval-only entities (teacher-forced, as src/data/tasks/hallucination-eval.ts
// does: known entities' right colours and eval-only entities' "unknown" are 0, a made-up colour 1).
//   nice -n 10 node bin/run-ts.js scripts/sae/halluc-probes.ts [--seeds 0,1,2] [--out runs/sae-halluc] [--sae-set PATH=V]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/backend/index.ts';
import { evalOnlyProbeExamples, worldFromJson } from '../../src/data/tasks/hallucination-eval.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { captureFeatures } from '../../src/probes/capture.ts';
import { loadProbe } from '../../src/probes/io.ts';
import { auroc, tprAtFpr } from '../../src/probes/metrics.ts';
import { ensureRecipeProbe } from '../../src/probes/recipe.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { loadAnyRecipe } from '../../src/recipe/load.ts';
import { loadSaeRecipe } from '../../src/recipe/index.ts';
import { runSaeJob } from '../../src/sae/job.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { latestCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '0,1,2' }, out: { type: 'string', default: 'runs/sae-halluc' }, 'sae-set': { type: 'string', multiple: true, default: [] } } });
const seeds = values.seeds.split(',').map(Number);
const tok = createTokenizer('byte');
const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));

await initBackend('auto');
const ex = evalOnlyProbeExamples(world, tok);
type Side = { auroc_id: number; tpr1_id: number; auroc_ood: number; tpr1_ood: number };
const results: Array<{ seed: number; raw: Side; sae: Side; sae_metrics: unknown }> = [];
for (const seed of seeds) {
  const dir = join(values.out, `seed${seed}`);
  const common = ['tracking.uri=none', `run.seed=${seed}`];
  let ck = existsSync(join(dir, 'a')) ? latestCheckpoint(join(dir, 'a')) : undefined;
  if (!ck) ck = (await train(loadRecipe('recipes/hallucination/a_sft_base.yaml', { overrides: [...common, `run.out_dir=${join(dir, 'a')}`] }), { tracker: new NullTracker() })).checkpoint!;
  const sdir = join(dir, 'sae');
  if (!existsSync(join(sdir, 'sae.json'))) {
    const s = loadSaeRecipe('recipes/hallucination/sae.yaml', { overrides: [...common, `model.init.checkpoint=${ck}`, `sae.out=${sdir}`, ...values['sae-set']] });
    console.error(`seed ${seed}: sae ${JSON.stringify(runSaeJob(s))}`);
  }
  const side = async (name: 'raw' | 'sae'): Promise<Side> => {
    const sets = name === 'sae' ? ['probes.0.features=sae', `probes.0.sae=${sdir}`] : [];
    const b = loadAnyRecipe('recipes/hallucination/b_probe.yaml', { overrides: [...common, `model.init.checkpoint=${ck}`, `run.out_dir=${join(dir, `b-${name}`)}`, `probes.0.train.seed=${seed}`, ...sets] });
    const model = buildModel(b, tok);
    const frozen = model.frozenCopy();
    model.dispose();
    const probe = loadProbe(await ensureRecipeProbe(b, frozen, tok), frozen);
    const f = captureFeatures(frozen, probe.meta.hook, probe.meta.level, ex);
    const s = probe.scoreRows(f.X, f.n);
    const m = probe.meta.metrics;
    const r = { auroc_id: m.auroc, tpr1_id: m.tpr_at_1fpr, auroc_ood: auroc(s, f.y), tpr1_ood: tprAtFpr(s, f.y, 0.01) };
    probe.dispose();
    frozen.dispose();
    return r;
  };
  const r = { seed, raw: await side('raw'), sae: await side('sae'), sae_metrics: JSON.parse(readFileSync(join(sdir, 'sae.json'), 'utf8')).metrics };
  results.push(r);
  console.error(`seed ${seed}: ${JSON.stringify(r)}`);
}
writeFileSync(join(values.out, `compare-${values.seeds}.json`), `${JSON.stringify(results, null, 1)}\n`);
console.log(JSON.stringify(results));
