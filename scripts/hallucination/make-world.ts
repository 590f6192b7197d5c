// Writes the hallucination world's data files (seeded, so the committed files are exactly
// what this prints): node bin/run-ts.js scripts/hallucination/make-world.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { makeWorld, worldFiles } from '../../src/data/tasks/hallucination.ts';

export const WORLD_SEED = 0;
// rlExtraUnknown / RL_KNOWN_REPEATS: RL needs many unseen names near the known ones to learn
// where knowledge ends (48 were memorised, not generalised), and known prompts repeated (×48) so
// that abstaining does not swamp them (with 10% known prompts RL abstained on everything; at ×24 seed 0 over-refused 48%).
export const SIZES = { known: 48, taughtUnknown: 16, probeUnknown: 64, rlUnknown: 48, evalUnknown: 64, rlExtraUnknown: 1500 };
export const RL_KNOWN_REPEATS = 48;
const world = makeWorld(WORLD_SEED, SIZES);
const files = worldFiles(world, WORLD_SEED, 1, RL_KNOWN_REPEATS);
const dir = 'data/hallucination';
mkdirSync(dir, { recursive: true });
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
writeFileSync(`${dir}/sft.jsonl`, jsonl(files.sft));
writeFileSync(`${dir}/probe.jsonl`, jsonl(files.probe));
writeFileSync(`${dir}/rl.jsonl`, jsonl(files.rl));
writeFileSync(`${dir}/world.json`, `${JSON.stringify({ seed: WORLD_SEED, ...world, colour: Object.fromEntries(world.colour) }, null, 1)}\n`);
console.log(`wrote ${dir}: ${files.sft.length} sft, ${files.probe.length} probe, ${files.rl.length} rl prompts`);
