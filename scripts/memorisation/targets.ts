// Which matrices to edit: K-FAC edits of one seed's base (from measure.ts) restricted to
// target sets, over a ρ list, printing recall and rule accuracy per edit. The factors file of
// measure.ts for that curvature data is reused (run measure.ts first).
//   node bin/run-ts.js scripts/memorisation/targets.ts SEED '[["blocks.0.mlp.*"],["blocks.*.mlp.W_in"]]' 0.9,0.8 [rule_train|train]
import { readdirSync } from 'node:fs';
import { initBackend } from '../../src/backend/index.ts';
import { evaluateMemorisation } from '../../src/data/tasks/memorisation-eval.ts';
import { readRecords } from '../../src/data/records.ts';
import { runEdit, type FactorEigen } from '../../src/gradients/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadEditRecipe } from '../../src/recipe/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
await initBackend('auto');
const seed = Number(process.argv[2]);
const variants = JSON.parse(process.argv[3]!) as string[][];
const data = process.argv[5] ?? 'train';
const rhos = process.argv[4]!.split(',').map(Number);
const dir = `runs/memorisation-measure/seed${seed}`;
const base = `${dir}/base/${readdirSync(`${dir}/base`).filter((d) => d.startsWith('step-')).sort().at(-1)}`;
const tok = createTokenizer('byte');
const rd = (f: string) => readRecords(f, { prompt: 'string', completion: 'string' }) as Array<{ prompt: string; completion: string }>;
const mem = rd(`${dir}/data/memorised.jsonl`), rule = rd(`${dir}/data/rule_eval.jsonl`);
let eigen: Map<string, FactorEigen> | undefined;
for (const v of variants) for (const rho of rhos) {
  const r = runEdit(loadEditRecipe('recipes/memorisation-kfac.yaml', { overrides: [`run.seed=${seed}`, `run.out_dir=${dir}/targets`, `model.init.checkpoint=${base}`, `edit.data.path=${dir}/data/${data}.jsonl`, `edit.factors=${dir}/kfac-factors-${data}.safetensors`, `edit.rho=${rho}`, `edit.targets=${JSON.stringify(v)}`] }), { eigen });
  eigen = eigen ?? r.eigen;
  const ck = loadCheckpoint(r.output);
  const m = HookedTransformer.fromValues(ck.config, ck.weights);
  const e = evaluateMemorisation(m, tok, mem, rule);
  m.dispose();
  console.log(`${seed} ${v.join('+')} rho ${rho}: strict ${(e.strict_recall * 100).toFixed(1)} loose ${(e.loose_recall * 100).toFixed(1)} rule ${(e.rule_accuracy * 100).toFixed(1)} ppl ${e.rule_perplexity.toFixed(3)}`);
}
