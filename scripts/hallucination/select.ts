// Hallucination world: the RL checkpoint kept by the rule (rules.ts) on the VALIDATION split.
// Every checkpoint of a run (step-*) and the base (step 0) answer the validation entities
// greedily; the rule keeps the one with the fewest validation hallucinations among those that
// lose no more validation-known answers than it allows. No reported entity is read.
// node bin/run-ts.js scripts/hallucination/select.ts BASE_CKPT RUN_DIR [RULES=scripts/hallucination/rules.yaml]
//   → one JSON line: the kept checkpoint and every checkpoint's validation row
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { answerRates } from '../../src/data/tasks/hallucination-eval.ts';
import type { World } from '../../src/data/tasks/hallucination.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { initBackend } from '../../src/backend/index.ts';
import { chooseCheckpoint, loadRules, type SplitFile } from './rules.ts';

export interface CheckpointRow {
  step: number;
  dir: string;
  /** Validation-known accuracy, and the answers lost against the base (net). */
  accuracy_known: number;
  known_lost: number;
  abstain_known: number;
  /** Hallucination on the validation unseen entities. */
  hallucination: number;
}

/** The split as a world answerRates reads: its known entities (with their answers) and its unseen ones. */
export function splitAsWorld(s: SplitFile): World {
  const colour = new Map([...s.known].map(([e, a]) => [e, a.trim()]));
  return { colour, known: [...s.known.keys()], evalUnknown: s.unseen, taughtUnknown: [], probeUnknown: [], rlUnknown: [] };
}

/** Steps and directories of a run's checkpoints, in step order. */
export function runCheckpoints(runDir: string): Array<{ step: number; dir: string }> {
  return readdirSync(runDir).filter((d) => /^step-\d+$/.test(d)).sort().map((d) => ({ step: Number(d.slice(5)), dir: join(runDir, d) }));
}

export async function selectCheckpoint(base: string, runDir: string, rulesFile = 'scripts/hallucination/rules.yaml'): Promise<{ kept: CheckpointRow; rows: CheckpointRow[] }> {
  const rules = loadRules(rulesFile);
  await initBackend('auto');
  const tok = createTokenizer('byte');
  const world = splitAsWorld(rules.splits.validation);
  const n = world.known.length;
  const rows: CheckpointRow[] = [];
  for (const { step, dir } of [{ step: 0, dir: base }, ...runCheckpoints(runDir)]) {
    const c = loadCheckpoint(dir);
    const m = HookedTransformer.fromValues(c.config, c.weights);
    try {
      const r = answerRates(world, m, tok);
      const lost = rows.length ? Math.max(0, Math.round((rows[0]!.accuracy_known - r.accuracy_known) * n)) : 0;
      rows.push({ step, dir, accuracy_known: r.accuracy_known, known_lost: lost, abstain_known: r.abstain_known, hallucination: r.hallucination_unknown });
    } finally {
      m.dispose();
    }
  }
  return { kept: chooseCheckpoint(rows, rules), rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, run, rules] = process.argv.slice(2);
  if (!base || !run) { console.error('usage: select.ts BASE_CKPT RUN_DIR [RULES]'); process.exit(2); }
  console.log(JSON.stringify(await selectCheckpoint(base, run, rules)));
}
