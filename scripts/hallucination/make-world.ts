// Writes the hallucination world's data files (seeded, so the committed files are exactly
// what this prints): node bin/run-ts.js scripts/hallucination/make-world.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { makeWorld, worldFiles } from '../../src/data/tasks/hallucination.ts';

export const WORLD_SEED = 0;
export const SIZES = { known: 48, taughtUnknown: 16, probeUnknown: 64, rlUnknown: 48, evalUnknown: 64 };
const world = makeWorld(WORLD_SEED, SIZES);
const files = worldFiles(world, WORLD_SEED, 1);
const dir = 'data/hallucination';
mkdirSync(dir, { recursive: true });
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
writeFileSync(`${dir}/sft.jsonl`, jsonl(files.sft));
writeFileSync(`${dir}/probe.jsonl`, jsonl(files.probe));
writeFileSync(`${dir}/rl.jsonl`, jsonl(files.rl));
writeFileSync(`${dir}/world.json`, `${JSON.stringify({ seed: WORLD_SEED, ...world, colour: Object.fromEntries(world.colour) }, null, 1)}\n`);
console.log(`wrote ${dir}: ${files.sft.length} sft, ${files.probe.length} probe, ${files.rl.length} rl prompts`);
