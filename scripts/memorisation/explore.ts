// How the edit's rule was chosen (docs/results/memorisation.md): per seed, the held-out loss
// (rule_valid.jsonl) beside the test numbers, at a grid of uniform ρ (RHOS=… to change it) or of
// one absolute curvature threshold over every target (global), for the MLP matrices or every
// block matrix. Reads measure.ts's base and factors for the seed (run measure.ts first).
//   node bin/run-ts.js scripts/memorisation/explore.ts SEED [all|uniform|global] [mlp|all|attn|b0]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { collectKfacFactors } from '../../src/gradients/kfac-factors.ts';
import { resolveTargets } from '../../src/gradients/kfac-sites.ts';
import { initBackend } from '../../src/backend/index.ts';
import { evalBatches, loadDataset } from '../../src/data/index.ts';
import { evaluateMemorisation } from '../../src/data/tasks/memorisation-eval.ts';
import { readRecords } from '../../src/data/records.ts';
import { curvatures, editWeight, editWeightAbove, factorEigen } from '../../src/gradients/kfac-edit.ts';
import { loadKfacFactors, saveKfacFactors } from '../../src/gradients/kfac-io.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { modelFromValues } from '../../src/models/registry.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { evaluate } from '../../src/trainer/evaluate.ts';
import { writeMemorisationWorld } from './world.ts';

const seed = Number(process.argv[2] ?? 0);
const mode = process.argv[3] ?? 'all';
const targetSet = process.argv[4] ?? 'mlp';
const TARGETS: Record<string, string[]> = { mlp: ['blocks.*.mlp.W_in', 'blocks.*.mlp.W_out'], all: ['blocks.*.attn.W_*', 'blocks.*.mlp.W_*'], attn: ['blocks.*.attn.W_*'], b0: ['blocks.0.attn.W_*', 'blocks.0.mlp.W_*'] };
await initBackend('auto');
const tok = createTokenizer('byte');
const dir = `runs/memorisation-measure/seed${seed}`;
const files = writeMemorisationWorld(seed, `${dir}/data`);
const rec = (p: string) => readRecords(p, { prompt: 'string', completion: 'string' }) as Array<{ prompt: string; completion: string }>;
const memorised = rec(files.memorised);
const ruleEval = rec(files.ruleEval);
const valid = evalBatches(loadDataset({ format: 'jsonl', path: files.ruleValid }, tok, 15).examples, 100);
const ck = loadCheckpoint(`${dir}/base/step-00001000`);
const factorsFile = targetSet === 'mlp' ? `${dir}/kfac-factors-rule_train.safetensors` : `${dir}/kfac-factors-${targetSet}.safetensors`;
if (!existsSync(factorsFile)) {
  const m0 = modelFromValues(ck.config, ck.weights);
  const ex = loadDataset({ format: 'jsonl', path: files.ruleTrain }, tok, 15).examples;
  saveKfacFactors(factorsFile, collectKfacFactors(m0, resolveTargets(m0, TARGETS[targetSet]!), ex, { fisher: 'sampled', tokens: 20000, batchSize: 16, seed }));
  m0.dispose();
}
const factors = loadKfacFactors(factorsFile);
const eigen = factorEigen(factors);
const paths = [...factors.factors.keys()];

const score = (weights: Map<string, Float32Array>) => {
  const m = modelFromValues(ck.config, weights);
  try {
    return { val: evaluate(m, valid).loss, ...evaluateMemorisation(m, tok, memorised, ruleEval) };
  } finally {
    m.dispose();
  }
};
const rows: Record<string, unknown>[] = [];
const push = (label: string, w: Map<string, Float32Array>, extra: Record<string, unknown>) => {
  const r = { label, ...score(w), ...extra };
  rows.push(r);
  console.log(`${label.padEnd(22)} val ${r.val.toFixed(5)} strict ${(100 * r.strict_recall).toFixed(1)} acc ${(100 * r.rule_accuracy).toFixed(1)} ppl ${r.rule_perplexity.toFixed(4)} ${JSON.stringify(extra)}`);
};
/** Every target edited by `edit`, scored under `label` with the share of components each kept. */
const editAll = (label: string, edit: typeof editWeight, strength: number, extra: Record<string, unknown> = {}) => {
  const w = new Map(ck.weights);
  const kept: number[] = [];
  for (const p of paths) {
    const r = edit(ck.weights.get(p)!, factors.factors.get(p)!, eigen.get(p)!, strength);
    w.set(p, r.weight);
    kept.push(r.report.kept / r.report.components);
  }
  push(label, w, { ...extra, kept: kept.map((k) => +k.toFixed(4)) });
};
push('base', ck.weights, {});
if (mode === 'all' || mode === 'uniform') {
  for (const rho of (process.env.RHOS ?? '0.96,0.95,0.94,0.93,0.92,0.91,0.9,0.88').split(',').map(Number)) editAll(`uniform ${rho}`, editWeight, rho);
}
if (mode === 'all' || mode === 'global') {
  // One absolute threshold on λμ over every target; thresholds as the global mass they keep.
  const all: number[] = [];
  let total = 0;
  for (const p of paths) {
    const { lam, mu } = curvatures(eigen.get(p)!);
    for (const l of lam) for (const u of mu) (all.push(l * u), (total += l * u));
  }
  all.sort((a, b) => b - a);
  const thresholdFor = (rho: number) => {
    let acc = 0;
    for (const x of all) if ((acc += x) >= rho * total) return x;
    return 0;
  };
  for (const rho of [0.999, 0.998, 0.995, 0.99, 0.985, 0.98, 0.97, 0.96, 0.95, 0.94]) {
    const t = thresholdFor(rho);
    editAll(`global ${rho}`, editWeightAbove, t, { t: +t.toExponential(3) });
  }
}
mkdirSync('runs/memorisation-explore', { recursive: true });
writeFileSync(`runs/memorisation-explore/seed${seed}-${mode}-${targetSet}.json`, JSON.stringify(rows, null, 1));
