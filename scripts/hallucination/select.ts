// Hallucination world: choose an RL run's checkpoint on a VALIDATION split, never on the test
// entities. The RL recipes save a checkpoint every 50 steps; this script answers, greedily, on
//   - validation unseen entities: the probe pool's 128 (world.probeUnknown). The base never saw
//     them, RL never prompts with them, and they are disjoint from the 128 eval-only unseen
//     entities the tables report;
//   - validation known entities: the 32 known entities the entity probe trains on (every other
//     one, hallucination.ts's entityProbeHeldOutKnown keeps the rest out). The tables report
//     all 64 and, separately, the 32 never used here.
// Rule (fixed before any run it was applied to): among the checkpoints that lose no validation
// known answer against the base (one of 32 is 3.1 points, over the 2 allowed) and abstain on
// ≤ 5% of them, keep the one with the fewest validation hallucinations; ties go to the earlier
// (less RL). None qualifying keeps the base.
// node bin/run-ts.js scripts/hallucination/select.ts BASE_CKPT RUN_DIR PROBE_DIR → one JSON line
import { readdirSync } from 'node:fs';
import { answerRates, type AnswerRates } from '../../src/data/tasks/hallucination-eval.ts';
import { entityProbeHeldOutKnown, type World } from '../../src/data/tasks/hallucination.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/transformer.ts';
import { loadCheckpoint } from '../../src/trainer/checkpoint.ts';
import { loadHallucinationRun } from './eval.ts';

/** The validation split: probe-pool unseen entities and the 32 known ones the entity probe trains on. */
export function validationWorld(world: World): World {
  const held = new Set(entityProbeHeldOutKnown(world));
  return { ...world, known: world.known.filter((e) => !held.has(e)), evalUnknown: world.probeUnknown };
}

/** The 32 known entities selection never reads (world.known less the validation ones). */
export const testOnlyKnown = (world: World): World => ({ ...world, known: entityProbeHeldOutKnown(world), evalUnknown: [] });

export interface Candidate { step: number; dir: string; val: AnswerRates }
export interface Selection { base: AnswerRates; candidates: Candidate[]; chosen: Candidate | null }

/** The selection rule on validation rates alone (exported so it is tested without a model). */
export function chooseCheckpoint(base: AnswerRates, candidates: Candidate[]): Candidate | null {
  const ok = candidates.filter((c) => c.val.accuracy_known >= base.accuracy_known - 1e-9 && c.val.abstain_known <= 0.05);
  return ok.reduce<Candidate | null>((best, c) => (best === null || c.val.hallucination_unknown < best.val.hallucination_unknown - 1e-9 || (Math.abs(c.val.hallucination_unknown - best.val.hallucination_unknown) <= 1e-9 && c.step < best.step) ? c : best), null);
}

/** Every `step-*` checkpoint of an RL run, answered on the validation split; the chosen one by chooseCheckpoint. */
export async function selectCheckpoint(base: string, runDir: string, probeDir: string): Promise<Selection> {
  const run = await loadHallucinationRun(base, base, probeDir);
  const tok = createTokenizer('byte');
  try {
    const val = validationWorld(run.world);
    const baseRates = answerRates(val, run.policy, tok);
    const candidates = readdirSync(runDir).filter((d) => /^step-\d+$/.test(d)).sort().map((d) => {
      const c = loadCheckpoint(`${runDir}/${d}`);
      const m = HookedTransformer.fromValues(c.config, c.weights);
      try {
        return { step: Number(d.slice(5)), dir: `${runDir}/${d}`, val: answerRates(val, m, tok) };
      } finally {
        m.dispose();
      }
    });
    return { base: baseRates, candidates, chosen: chooseCheckpoint(baseRates, candidates) };
  } finally {
    run.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, runDir, probe] = process.argv.slice(2);
  if (!base || !runDir || !probe) { console.error('usage: select.ts BASE_CKPT RUN_DIR PROBE_DIR'); process.exit(2); }
  console.log(JSON.stringify(await selectCheckpoint(base, runDir, probe)));
}
