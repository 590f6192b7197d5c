/**
 * How concentrated task A's attribution (|g × w| per batch, as the recipe scores it) is on each
 * seed's base: the share of matrix entries with a non-zero score, the score mass left outside
 * the top 70/75/77.5/80%, and how many entries hold all but 1e-3/1e-4/1e-5 of the mass.
 *   node bin/run-ts.js scripts/forgetting/concentration.ts [0,1,2,3,4,5,6]
 * Reads the bases diagnose.ts caches in /tmp/bonsai-forgetting-bases (run it first).
 */
import { initBackend } from '../../src/backend/index.ts';
import { evalBatches, loadDataset } from '../../src/data/index.ts';
import { attributionScores } from '../../src/gradients/attribution.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
await initBackend('auto');
const tok = createTokenizer('byte');
const ex = loadDataset({ format: 'jsonl', path: 'data/tasks/forgetting/a_train.jsonl' }, tok, 7).examples;
const batches = evalBatches(ex, 32, 8);
for (const seed of (process.argv[2] ?? '0,1,2,3,4,5,6').split(',').map(Number)) {
  const ck = loadCheckpoint(`/tmp/bonsai-forgetting-bases/base-seed${seed}`);
  const m = HookedTransformer.fromValues(ck.config, ck.weights);
  const s = attributionScores(m.params, batches, (b) => lmLoss(m, b));
  const all = Float32Array.from([...s.values()].flatMap((a) => Array.from(a))).sort().reverse();
  const tot = all.reduce((a, b) => a + b, 0);
  const cum = new Float64Array(all.length);
  let c = 0;
  all.forEach((x, i) => {
    c += x;
    cum[i] = c / tot;
  });
  const at = (p: number) => cum[Math.round((all.length * p) / 100) - 1]!;
  const pctFor = (mass: number) => (100 * (cum.findIndex((x) => x >= mass) + 1)) / all.length;
  const nz = all.filter((x) => x > 0).length;
  console.log(`seed ${seed}: nonzero ${(100 * nz / all.length).toFixed(1)}%; mass at top 70/75/77.5/80%: ${[70, 75, 77.5, 80].map((p) => (100 * (1 - at(p))).toExponential(2)).join(' / ')} left; entries for mass 1-1e-3/1e-4/1e-5: ${[1e-3, 1e-4, 1e-5].map((e) => pctFor(1 - e).toFixed(1)).join(' / ')}%`);
  m.dispose();
}
