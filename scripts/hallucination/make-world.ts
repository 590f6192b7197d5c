// Writes the hallucination world's data files (seeded, so the committed files are exactly
// what this prints): node bin/run-ts.js scripts/hallucination/make-world.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { entityProbeRows, makeWorld, worldFiles } from '../../src/data/tasks/hallucination.ts';
import { splitRows } from './splits.ts';

export const WORLD_SEED = 0;
// known 64 and evalUnknown 128, not 48 and 64: with 48 known entities one wrong answer moved
// known accuracy by 2.1 points, more than the 2-point limit, and 64 unseen ones by 1.6 points.
// probeUnknown 128: twice the probe's unknown examples (eval probe AUROC 0.82 → 0.86, with the rest of this world).
// rlExtraUnknown / RL_KNOWN_REPEATS: RL needs many unseen names near the known ones to learn
// where knowledge ends (48 were memorised, not generalised), and known prompts repeated (×36, so
// 60% of RL prompts are known) so that abstaining does not swamp them (with 10% known prompts
// RL abstained on everything).
export const SIZES = { known: 64, taughtUnknown: 16, probeUnknown: 128, rlUnknown: 48, evalUnknown: 128, rlExtraUnknown: 1500 };
export const RL_KNOWN_REPEATS = 36;
const world = makeWorld(WORLD_SEED, SIZES);
const files = worldFiles(world, WORLD_SEED, 1, RL_KNOWN_REPEATS);
const dir = 'data/hallucination';
mkdirSync(dir, { recursive: true });
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
writeFileSync(`${dir}/sft.jsonl`, jsonl(files.sft));
writeFileSync(`${dir}/probe.jsonl`, jsonl(files.probe));
writeFileSync(`${dir}/rl.jsonl`, jsonl(files.rl));
writeFileSync(`${dir}/entity_probe.jsonl`, jsonl(entityProbeRows(world, WORLD_SEED)));
// The validation split (what rules may read) and the reported one (what the tables report): splits.ts.
writeFileSync(`${dir}/validation.jsonl`, jsonl(splitRows(world, 'validation')));
writeFileSync(`${dir}/test.jsonl`, jsonl(splitRows(world, 'reported')));
writeFileSync(`${dir}/world.json`, `${JSON.stringify({ seed: WORLD_SEED, ...world, colour: Object.fromEntries(world.colour) }, null, 1)}\n`);
console.log(`wrote ${dir}: ${files.sft.length} sft, ${files.probe.length} probe, ${files.rl.length} rl prompts`);
