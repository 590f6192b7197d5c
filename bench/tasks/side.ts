import { sideRecords } from '../../src/data/tasks/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { collectActivations, meanDifference } from '../../src/gradients/directions.ts';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { accuracy, examples, pct, recipeFor, tokenProb, trainAndLoad, writeJsonl } from './common.ts';

const HOOK = 'blocks.0.hook_resid_post';

/** Persona vector of the tic in a model that has it: mean activation on "Z" responses minus on letter responses. */
function personaVector(m: CausalLM, path: string): number {
  const r = meanDifference(collectActivations(m, examples(`${DIR}/unwanted.jsonl`, 7), HOOK), collectActivations(m, examples(`${DIR}/probe.jsonl`, 7), HOOK));
  saveDirections(path, { format: 'bonsai-directions/1', kind: 'activation', hook: HOOK, width: m.config.dModel, vectors: [r.vector], stats: { method: 'mean-diff', ...r.stats } });
  return r.stats.mean_diff_norm!;
}

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
 * Plain vs project_out vs preventative steering over seeds. A = accuracy on the middle letter (the token after
 * "Z"); B = mean P("Z" first) on c-prompts, before and after; growth cut = 1 − Δ_proj/Δ_plain.
 */
export async function runSide(seeds: number[]): Promise<string[]> {
  writeSideData();
  const a = examples(`${DIR}/a_eval.jsonl`, 7);
  const probe = examples(`${DIR}/probe.jsonl`, 7);
  const arms = ['plain', 'project', 'steer'] as const;
  const res = Object.fromEntries(arms.map((k) => [k, { a: [] as number[], b: [] as number[], growth: [] as number[] }]));
  const cut: Record<string, number[]> = { project: [], steer: [] };
  const cost: Record<string, number[]> = { project: [], steer: [] };
  for (const seed of seeds) {
    const r0 = recipeFor('recipes/side-plain.yaml', seed);
    await initBackend(r0.backend);
    const m0 = buildModel(r0, createTokenizer('byte'));
    const b0 = tokenProb(m0, probe, Z);
    m0.dispose();
    let persona: string[] = [];
    for (const arm of arms) {
      const m = await trainAndLoad(recipeFor(`recipes/side-${arm}.yaml`, seed, arm === 'steer' ? persona : []));
      if (arm === 'plain') {
        const file = `${DIR}/persona-seed${seed}.json`;
        persona = [`interventions.0.directions=${file}`, `interventions.0.coef=${personaVector(m, file)}`];
      }
      res[arm]!.a.push(accuracy(m, a, 1));
      const b = tokenProb(m, probe, Z);
      res[arm]!.b.push(b);
      res[arm]!.growth.push(b - b0);
      m.dispose();
      console.error(`side seed ${seed} ${arm}: A ${res[arm]!.a.at(-1)} B ${b} (before ${b0})`);
    }
    for (const arm of ['project', 'steer']) {
      cut[arm]!.push(1 - res[arm]!.growth.at(-1)! / res.plain!.growth.at(-1)!);
      cost[arm]!.push(1 - res[arm]!.a.at(-1)! / res.plain!.a.at(-1)!);
    }
  }
  return [
    '| side behaviour (worst seed) | A acc % (letter after Z) | B: P(Z) on c-prompts % | B growth % points |',
    '| --- | --- | --- | --- |',
    ...Object.entries(res).map(([arm, r]) => `| ${arm} | ${pct(r.a, seeds)} | ${pct(r.b, seeds, 'high')} | ${pct(r.growth, seeds, 'high')} |`),
    ...['project', 'steer'].map((arm) => `| ${arm} vs plain | relative cost on A: ${pct(cost[arm]!, seeds, 'high')} | | growth cut: ${pct(cut[arm]!, seeds)} |`),
  ];
}
