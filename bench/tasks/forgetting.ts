import { cpSync, rmSync } from 'node:fs';
import { forgettingRecords } from '../../src/data/tasks/index.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { accuracy, examples, pct, recipeFor, trainAndLoad, writeJsonl } from './common.ts';

const DIR = 'data/tasks/forgetting';
// random: the control for attribution (the same share of the same matrices, drawn at random).
const ARMS = ['none', 'attribution', 'random', 'last-block'] as const;

/** Writes the task's data (fixed seeds). */
export function writeForgettingData(): void {
  writeJsonl(`${DIR}/a_train.jsonl`, forgettingRecords(11, 2000, 'A'));
  writeJsonl(`${DIR}/a_eval.jsonl`, forgettingRecords(12, 400, 'A'));
  writeJsonl(`${DIR}/b_train.jsonl`, forgettingRecords(13, 2000, 'B'));
  writeJsonl(`${DIR}/b_eval.jsonl`, forgettingRecords(14, 400, 'B'));
}

/** Pretrain A per seed, then fine-tune on B with each freezing arm; accuracy on A and B. */
export async function runForgetting(seeds: number[]): Promise<string[]> {
  writeForgettingData();
  const a = examples(`${DIR}/a_eval.jsonl`, 7);
  const b = examples(`${DIR}/b_eval.jsonl`, 7);
  const base = { a: [] as number[], b: [] as number[] };
  const res = Object.fromEntries(ARMS.map((k) => [k, { a: [] as number[], b: [] as number[] }]));
  for (const seed of seeds) {
    const pre = await train(recipeFor('recipes/forgetting-pretrain.yaml', seed));
    const ckpt = pre.checkpoint!;
    if (seed === 0) {
      rmSync(`${DIR}/base-seed0`, { recursive: true, force: true });
      cpSync(ckpt, `${DIR}/base-seed0`, { recursive: true }); // the shipped fine-tuning recipes start here
    }
    const ck = loadCheckpoint(ckpt);
    const m0 = HookedTransformer.fromValues(ck.config, ck.weights);
    base.a.push(accuracy(m0, a));
    base.b.push(accuracy(m0, b));
    m0.dispose();
    for (const arm of ARMS) {
      const model = await trainAndLoad(recipeFor(`recipes/forgetting-${arm}.yaml`, seed, [`model.init.checkpoint=${ckpt}`]));
      res[arm]!.a.push(accuracy(model, a));
      res[arm]!.b.push(accuracy(model, b));
      model.dispose();
      console.error(`forgetting seed ${seed} ${arm}: A ${res[arm]!.a.at(-1)} B ${res[arm]!.b.at(-1)} (base A ${base.a.at(-1)})`);
    }
  }
  return [
    '| forgetting (A learned, then fine-tuned on B) | A acc % (worst seed) | B acc % (worst seed) |',
    '| --- | --- | --- |',
    `| before fine-tuning | ${pct(base.a, seeds)} | ${pct(base.b, seeds)} |`,
    ...ARMS.map((arm) => `| freeze: ${arm} | ${pct(res[arm]!.a, seeds)} | ${pct(res[arm]!.b, seeds)} |`),
  ];
}
