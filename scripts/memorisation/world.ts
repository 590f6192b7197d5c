// Writes one memorisation world's files: train.jsonl (rule instances + memorised pairs ×
// repeats), rule_train.jsonl (train.jsonl's rule lines only: the text the K-FAC edit takes
// its curvature on), rule_eval.jsonl (held-out rule instances), memorised.jsonl (the pairs once).
// node bin/run-ts.js scripts/memorisation/world.ts [seed=0] [dir=data/tasks/memorisation]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memorisationWorld } from '../../src/data/tasks/memorisation.ts';
import type { TaskRecord } from '../../src/data/tasks/index.ts';

/** Writes the world of `seed` into `dir`; returns the file paths. */
export function writeMemorisationWorld(seed: number, dir: string): { train: string; ruleTrain: string; ruleEval: string; memorised: string } {
  const w = memorisationWorld(seed);
  mkdirSync(dir, { recursive: true });
  const write = (name: string, recs: readonly TaskRecord[]) => {
    const path = join(dir, name);
    writeFileSync(path, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return path;
  };
  return { train: write('train.jsonl', w.train), ruleTrain: write('rule_train.jsonl', w.train.filter((r) => r.prompt.startsWith('r:'))), ruleEval: write('rule_eval.jsonl', w.ruleEval), memorised: write('memorised.jsonl', w.memorised) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = writeMemorisationWorld(Number(process.argv[2] ?? 0), process.argv[3] ?? 'data/tasks/memorisation');
  console.log(Object.values(files).join('\n'));
}
