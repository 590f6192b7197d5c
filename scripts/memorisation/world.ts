// Writes one memorisation world's files: train.jsonl (rule instances + memorised pairs ×
// repeats), rule_train.jsonl (train.jsonl's rule lines only: the text the K-FAC edit takes
// its curvature on), rule_eval.jsonl (held-out rule instances, the reported test),
// rule_valid.jsonl (other held-out rule instances: the split an edit rule may choose its
// strength on), memorised.jsonl (the pairs once).
// node bin/run-ts.js scripts/memorisation/world.ts [seed=0] [dir=data/tasks/memorisation]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memorisationWorld, ruleRecords, ruleSource } from '../../src/data/tasks/memorisation.ts';
import type { TaskRecord } from '../../src/data/tasks/index.ts';

/** Writes the world of `seed` into `dir`; returns the file paths. */
export function writeMemorisationWorld(seed: number, dir: string): { train: string; ruleTrain: string; ruleEval: string; ruleValid: string; memorised: string } {
  const w = memorisationWorld(seed);
  // Drawn after the world and apart from its training and test strings, so the world itself is unchanged.
  const seen = new Set([...w.train, ...w.ruleEval].filter((r) => r.prompt.startsWith('r:')).map(ruleSource));
  const ruleValid = ruleRecords(seed * 7 + 5, w.ruleEval.length, seen);
  mkdirSync(dir, { recursive: true });
  const write = (name: string, recs: readonly TaskRecord[]) => {
    const path = join(dir, name);
    writeFileSync(path, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return path;
  };
  return { train: write('train.jsonl', w.train), ruleTrain: write('rule_train.jsonl', w.train.filter((r) => r.prompt.startsWith('r:'))), ruleEval: write('rule_eval.jsonl', w.ruleEval), ruleValid: write('rule_valid.jsonl', ruleValid), memorised: write('memorised.jsonl', w.memorised) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = writeMemorisationWorld(Number(process.argv[2] ?? 0), process.argv[3] ?? 'data/tasks/memorisation');
  console.log(Object.values(files).join('\n'));
}
