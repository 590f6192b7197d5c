/**
 * What was tried for the freeze rule, and did not work: a check that moves every entry left
 * free by a top-share attribution freeze by Gaussian noise of scale σ and reads A on the
 * held-out prompts (data/tasks/forgetting/a_valid.jsonl). Per seed, share and σ: A's accuracy,
 * mean and worst of 4 draws. (Measured: 100% at every share from 70% and σ up to 0.1 on seeds
 * 0 and 4; random moves do not do what B's coherent fine-tune does.)
 *   node bin/run-ts.js scripts/forgetting/check.ts 0,9 [70,72,74,75,76,77,78,79,80,80.5] [0.02,0.05,0.1]
 * Reads the bases diagnose.ts caches in /tmp/bonsai-forgetting-bases (run it first).
 */
import { accuracy, examples } from '../../bench/tasks/common.ts';
import { initBackend } from '../../src/backend/index.ts';
import { evalBatches, loadDataset } from '../../src/data/index.ts';
import { attributionScores, selectTopPercent } from '../../src/gradients/attribution.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { modelFromValues } from '../../src/models/registry.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { Rng } from '../../src/util/rng.ts';

const seeds = (process.argv[2] ?? '0').split(',').map(Number);
const shares = (process.argv[3] ?? '70,72,74,75,76,77,78,79,80,80.5').split(',').map(Number);
const sigmas = (process.argv[4] ?? '0.02,0.05,0.1').split(',').map(Number);
await initBackend('auto');
const tok = createTokenizer('byte');
const DIR = 'data/tasks/forgetting';
const valid = examples(`${DIR}/a_valid.jsonl`, 7);
console.log(`validation: ${valid.length} prompts`);
const ex = loadDataset({ format: 'jsonl', path: `${DIR}/a_train.jsonl` }, tok, 7).examples;
const batches = evalBatches(ex, 32, 8);
for (const seed of seeds) {
  const ck = loadCheckpoint(`/tmp/bonsai-forgetting-bases/base-seed${seed}`);
  const m = modelFromValues(ck.config, ck.weights);
  const scores = attributionScores(m.params, batches, (b) => lmLoss(m, b));
  for (const share of shares) {
    const sel = selectTopPercent(scores, share);
    const cells: string[] = [];
    for (const sigma of sigmas) {
      const accs: number[] = [];
      for (let d = 0; d < 4; d++) {
        const rng = new Rng(1000 + d);
        const w = new Map<string, Float32Array>();
        for (const [path, v] of ck.weights) {
          const flags = sel.get(path);
          const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
          w.set(path, Float32Array.from(v, (x, i) => (flags?.[i] ? x : x + sigma * gauss())));
        }
        const pm = modelFromValues(ck.config, w);
        accs.push(accuracy(pm, valid));
        pm.dispose();
      }
      cells.push(`σ ${sigma}: ${(100 * accs.reduce((a, b) => a + b, 0) / accs.length).toFixed(0)}/${(100 * Math.min(...accs)).toFixed(0)}`);
    }
    console.log(`seed ${seed} share ${share}: ${cells.join('  ')}`);
  }
  m.dispose();
}
