import { sideRecords } from '../../src/data/tasks/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { readoutDirection } from '../../src/gradients/directions.ts';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { accuracy, examples, pct, recipeFor, tokenProb, trainAndLoad, writeJsonl } from './common.ts';

const HOOK = 'blocks.1.hook_resid_post';

/** The tic's direction in a model that has it: the residual direction its unembedding reads "Z" along (what `bonsai directions --method readout --token Z` writes). */
function ticReadout(m: CausalLM, path: string): void {
  saveDirections(path, { format: 'bonsai-directions/1', kind: 'activation', hook: HOOK, width: m.config.dModel, vectors: [readoutDirection(m, [Z])], stats: { method: 'readout', token: 'Z', tokens: String(Z) } });
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
 * "Z"); B = mean P("Z" first) on c-prompts, before and after; growth cut = 1 − Δ_arm/Δ_plain; the tic on
 * A's own prompts, P("Z" first) on a-prompts, is reported beside (project_out keeps it, steering removes it).
 */
export async function runSide(seeds: number[]): Promise<string[]> {
  writeSideData();
  const a = examples(`${DIR}/a_eval.jsonl`, 7);
  const probe = examples(`${DIR}/probe.jsonl`, 7);
  const arms = ['plain', 'project', 'steer'] as const;
  const res = Object.fromEntries(arms.map((k) => [k, { a: [] as number[], b: [] as number[], growth: [] as number[], tic: [] as number[] }]));
  const aPrompts = examples(`${DIR}/a_eval.jsonl`, 7);
  const cut: Record<string, number[]> = { project: [], steer: [] };
  const cost: Record<string, number[]> = { project: [], steer: [] };
  const b0s: number[] = [];
  for (const seed of seeds) {
    const r0 = recipeFor('recipes/side-plain.yaml', seed);
    await initBackend(r0.backend);
    const m0 = buildModel(r0, createTokenizer('byte'));
    const b0 = tokenProb(m0, probe, Z);
    b0s.push(b0);
    m0.dispose();
    let readout: string[] = [];
    for (const arm of arms) {
      const m = await trainAndLoad(recipeFor(`recipes/side-${arm}.yaml`, seed, arm === 'steer' ? readout : []));
      if (arm === 'plain') {
        const file = `${DIR}/readout-seed${seed}.json`;
        ticReadout(m, file);
        readout = [`interventions.0.directions=${file}`];
      }
      res[arm]!.a.push(accuracy(m, a, 1));
      res[arm]!.tic.push(tokenProb(m, aPrompts, Z));
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
  const c = (x: number) => (100 * x).toFixed(2);
  return [
    '| side behaviour (worst seed) | A acc % (letter after Z) | B: P(Z) on c-prompts % | B growth % points | the tic on A\'s own prompts: P(Z) % |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(res).map(([arm, r]) => `| ${arm} | ${pct(r.a, seeds)} | ${pct(r.b, seeds, 'high')} | ${pct(r.growth, seeds, 'high')} | ${pct(r.tic)} |`),
    ...['project', 'steer'].map((arm) => `| ${arm} vs plain | relative cost on A: ${pct(cost[arm]!, seeds, 'high')} | | growth cut: ${pct(cut[arm]!, seeds)} | |`),
    '',
    '| seed | B before % | plain: B / tic % | project: B / tic % | steer: B / tic % | cut project / steer % | A: plain / project / steer % |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...seeds.map((seed, i) => `| ${seed} | ${c(b0s[i]!)} | ${arms.map((arm) => `${c(res[arm]!.b[i]!)} / ${c(res[arm]!.tic[i]!)}`).join(' | ')} | ${(100 * cut.project![i]!).toFixed(1)} / ${(100 * cut.steer![i]!).toFixed(1)} | ${arms.map((arm) => (100 * res[arm]!.a[i]!).toFixed(1)).join(' / ')} |`),
  ];
}
