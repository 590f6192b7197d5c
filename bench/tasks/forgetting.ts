import { cpSync, existsSync, rmSync } from 'node:fs';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { forgettingRecords } from '../../src/data/tasks/index.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { accuracy, examples, pct, recipeFor, trainAndLoad, writeJsonl, type TaskOptions } from './common.ts';

const DIR = 'data/tasks/forgetting';
// random: the control for attribution (the same share of the same matrices, drawn at random).
const ALL_ARMS = ['none', 'attribution', 'random', 'last-block'] as const;

/** Writes the task's data (fixed seeds). */
export function writeForgettingData(): void {
  const aTrain = forgettingRecords(11, 2000, 'A');
  const aEval = forgettingRecords(12, 400, 'A');
  writeJsonl(`${DIR}/a_train.jsonl`, aTrain);
  writeJsonl(`${DIR}/a_eval.jsonl`, aEval);
  // The guard's held-out split: A's training prompts that the test (a_eval) never asks, once each
  // (A has only 216 prompts, and the test asks 182 of them, so this is what a user can hold out).
  const asked = new Set(aEval.map((r) => r.prompt));
  writeJsonl(`${DIR}/a_valid.jsonl`, [...new Map(aTrain.filter((r) => !asked.has(r.prompt)).map((r) => [r.prompt, r])).values()]);
  writeJsonl(`${DIR}/b_train.jsonl`, forgettingRecords(13, 2000, 'B'));
  writeJsonl(`${DIR}/b_eval.jsonl`, forgettingRecords(14, 400, 'B'));
}

/** Pretrain A per seed, then fine-tune on B with each freezing arm; accuracy on A and B. */
export async function runForgetting(seeds: number[], o: TaskOptions = {}): Promise<string[]> {
  const ARMS = ALL_ARMS.filter((a) => !o.arms || o.arms.includes(a));
  writeForgettingData();
  const a = examples(`${DIR}/a_eval.jsonl`, 7);
  const b = examples(`${DIR}/b_eval.jsonl`, 7);
  const base = { a: [] as number[], b: [] as number[] };
  const res = Object.fromEntries(ARMS.map((k) => [k, { a: [] as number[], b: [] as number[], frozen: [] as string[] }]));
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
      const recipe = recipeFor(`recipes/forgetting-${arm}.yaml`, seed, [`model.init.checkpoint=${ckpt}`, ...(arm === 'attribution' || arm === 'random' ? (o.sets ?? []) : [])]);
      const model = await trainAndLoad(recipe);
      res[arm]!.a.push(accuracy(model, a));
      res[arm]!.b.push(accuracy(model, b));
      res[arm]!.frozen.push(guardPercent(recipe.run.out_dir));
      model.dispose();
      console.error(`forgetting seed ${seed} ${arm}: A ${res[arm]!.a.at(-1)} B ${res[arm]!.b.at(-1)} (base A ${base.a.at(-1)}) ${res[arm]!.frozen.at(-1)}`);
    }
  }
  const cell = (x: number) => (100 * x).toFixed(1);
  return [
    '| forgetting (A learned, then fine-tuned on B) | A acc % (worst seed) | B acc % (worst seed) |',
    '| --- | --- | --- |',
    `| before fine-tuning | ${pct(base.a, seeds)} | ${pct(base.b, seeds)} |`,
    ...ARMS.map((arm) => `| freeze: ${arm} | ${pct(res[arm]!.a, seeds)} | ${pct(res[arm]!.b, seeds)} |`),
    '',
    `| seed | ${ARMS.map((arm) => `${arm}: A / B %`).join(' | ')} |`,
    `| --- | ${ARMS.map(() => '---').join(' | ')} |`,
    ...seeds.map((seed, i) => `| ${seed} | ${ARMS.map((arm) => `${cell(res[arm]!.a[i]!)} / ${cell(res[arm]!.b[i]!)}${res[arm]!.frozen[i] ? ` (${res[arm]!.frozen[i]})` : ''}`).join(' | ')} |`),
  ];
}

/** A guarded freeze's final top share, from the selection the run saved ('' without a guard). */
function guardPercent(outDir: string): string {
  const file = `${outDir}/freeze-selection.safetensors`;
  const p = existsSync(file) ? readSafetensors(file).metadata?.['bonsai.guard_percent'] : undefined;
  return p ? `top ${p}%` : '';
}
