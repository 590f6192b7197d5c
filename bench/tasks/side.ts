import { sideRecords } from '../../src/data/tasks/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { buildModel } from '../../src/trainer/build.ts';
import { accuracy, examples, pct, recipeFor, tokenProb, trainAndLoad, writeJsonl } from './common.ts';

const DIR = 'data/tasks/side';
const Z = 'Z'.charCodeAt(0); // byte tokenizer: the token id is the byte

/** Writes the task's data (fixed seeds). */
export function writeSideData(): void {
  writeJsonl(`${DIR}/a_train.jsonl`, sideRecords(21, 2000, 'A'));
  writeJsonl(`${DIR}/a_eval.jsonl`, sideRecords(22, 400, 'A'));
  writeJsonl(`${DIR}/unwanted.jsonl`, sideRecords(23, 400, 'unwanted'));
  writeJsonl(`${DIR}/probe.jsonl`, sideRecords(24, 400, 'probe'));
}

/**
 * Plain vs project_out over seeds. A = accuracy on the middle letter (the token after
 * "Z"); B = mean P("Z" first) on c-prompts, before and after; growth cut = 1 − Δ_proj/Δ_plain.
 */
export async function runSide(seeds: number[]): Promise<string[]> {
  writeSideData();
  const a = examples(`${DIR}/a_eval.jsonl`, 7);
  const probe = examples(`${DIR}/probe.jsonl`, 7);
  const res: Record<string, { a: number[]; b: number[]; growth: number[] }> = { plain: { a: [], b: [], growth: [] }, project: { a: [], b: [], growth: [] } };
  const cut: number[] = [];
  const cost: number[] = [];
  for (const seed of seeds) {
    const r0 = recipeFor('recipes/side-plain.yaml', seed);
    await initBackend(r0.backend);
    const m0 = buildModel(r0, createTokenizer('byte'));
    const b0 = tokenProb(m0, probe, Z);
    m0.dispose();
    for (const arm of ['plain', 'project'] as const) {
      const m = await trainAndLoad(recipeFor(`recipes/side-${arm}.yaml`, seed));
      res[arm]!.a.push(accuracy(m, a, 1));
      const b = tokenProb(m, probe, Z);
      res[arm]!.b.push(b);
      res[arm]!.growth.push(b - b0);
      m.dispose();
      console.error(`side seed ${seed} ${arm}: A ${res[arm]!.a.at(-1)} B ${b} (before ${b0})`);
    }
    cut.push(1 - res.project!.growth.at(-1)! / res.plain!.growth.at(-1)!);
    cost.push(1 - res.project!.a.at(-1)! / res.plain!.a.at(-1)!);
  }
  return [
    '| side behaviour | A acc % (letter after Z) | B: P(Z) on c-prompts % | B growth % points |',
    '| --- | --- | --- | --- |',
    ...Object.entries(res).map(([arm, r]) => `| ${arm} | ${pct(r.a)} | ${pct(r.b)} | ${pct(r.growth)} |`),
    `| project_out vs plain | relative cost on A: ${pct(cost)} | | growth cut: ${pct(cut)} |`,
  ];
}
