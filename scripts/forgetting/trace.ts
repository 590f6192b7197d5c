/**
 * A's accuracy along the fine-tune on B at fixed frozen shares (no guard), to see when A breaks
 * where it breaks: together with B's learning, around steps 100-200 (docs/results/forgetting.md).
 * Printed every `every` steps: A on the held-out prompts / A on the test / B.
 *   node bin/run-ts.js scripts/forgetting/trace.ts SEEDS SHARES [every=25] [steps=400]
 * Reads the bases diagnose.ts caches in /tmp/bonsai-forgetting-bases (run it first).
 */
import { accuracy, examples, recipeFor } from '../../bench/tasks/common.ts';
import { initBackend } from '../../src/backend/index.ts';
import { Freezer } from '../../src/gradients/freeze.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildData, buildTransforms } from '../../src/trainer/build.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { selectFreeze } from '../../src/trainer/design.ts';
import { runSft } from '../../src/trainer/sft.ts';

const seeds = process.argv[2]!.split(',').map(Number);
const shares = process.argv[3]!.split(',').map(Number);
const every = Number(process.argv[4] ?? 25);
const steps = Number(process.argv[5] ?? 400);
const DIR = 'data/tasks/forgetting';
const evalA = examples(`${DIR}/a_eval.jsonl`, 7);
const evalB = examples(`${DIR}/b_eval.jsonl`, 7);
const validA = examples(`${DIR}/a_valid.jsonl`, 7);
for (const seed of seeds) {
  for (const share of shares) {
    const base = `/tmp/bonsai-forgetting-bases/base-seed${seed}`;
    const recipe = recipeFor('recipes/forgetting-attribution.yaml', seed, [`model.init.checkpoint=${base}`, `freeze.0.attribution.top_percent=${share}`, `trainer.steps=${steps}`]);
    await initBackend(recipe.backend);
    const tokenizer = createTokenizer(recipe.model.tokenizer);
    const model = buildModel(recipe, tokenizer);
    const data = buildData(recipe, tokenizer, model.config.nCtx);
    const sel = selectFreeze(recipe, model, tokenizer, data.seqLen);
    const freezer = new Freezer(model.params, sel);
    const trace: string[] = [];
    await runSft({
      recipe, model, tokenizer, data, transforms: buildTransforms(recipe, { model, tokenizer, seqLen: data.seqLen }), makeFreezer: () => freezer, tracker: new NullTracker(), recipeYaml: '',
      onStep: (step) => { if (step % every === 0) trace.push(`${step}:${(100 * accuracy(model, validA)).toFixed(0)}/${(100 * accuracy(model, evalA)).toFixed(0)}/${(100 * accuracy(model, evalB)).toFixed(0)}`); },
    });
    console.log(`seed ${seed} share ${share} (valid A / test A / B): ${trace.join(' ')}`);
    model.dispose();
  }
}
