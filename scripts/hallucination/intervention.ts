// Hallucination world: the runtime intervention, measured. An entity-level probe on the FROZEN
// base (recipes/hallucination/b_entity_probe.yaml) is read once, at the answer's leading space,
// right before the answer word; when it fires, "unknown\n" is inserted and the answer ends there.
// node bin/run-ts.js scripts/hallucination/intervention.ts BASE_CKPT POLICY_CKPT ENTITY_PROBE_DIR
//   → one JSON line: the policy's answer rates without and with the intervention.
import { answerRates, type AnswerRates } from '../../src/data/tasks/hallucination-eval.ts';
import { ABSTAIN, ENTITY_PROBE_AT, entityProbeHeldOutKnown, question } from '../../src/data/tasks/hallucination.ts';
import { captureFeatures } from '../../src/probes/capture.ts';
import { probeIntervention } from '../../src/probes/intervene.ts';
import { loadHallucinationRun } from './eval.ts';

/** The policy's answer rates with the intervention at one threshold. */
export type Intervened = AnswerRates & {
  threshold: number;
  /** Over-refusal on the 32 known entities the entity probe never trained on. */
  abstain_known_probe_unseen: number;
  /** Share of prompts (eval unknown + known) where the probe fired. */
  fired: number;
};

export interface InterventionEval {
  /** The policy alone. */
  plain: AnswerRates;
  /** With the intervention at the probe's own threshold (best F1 on its held-out split). */
  probe_threshold: Intervened;
  /**
   * With the intervention at a threshold just above the highest score of the known entities
   * the probe trained on: a rule that needs only the probe's training data and that no known
   * entity it saw triggers (the held-out ones still can).
   */
  known_safe: Intervened;
}

export async function evalIntervention(base: string, policy: string, entityProbeDir: string): Promise<InterventionEval> {
  const run = await loadHallucinationRun(base, policy, entityProbeDir);
  const { world, tok, policy: p, frozen, probe } = run;
  try {
    if (probe.meta.level !== 'sequence') throw new Error(`${entityProbeDir}: the entity probe must be sequence level (read at one position), not ${probe.meta.level}`);
    // Read where the probe was trained (after the answer's leading space), then finish the
    // answer as an abstention. A fresh intervention per pass: it keeps per-sequence state.
    const iv = (threshold: number) => probeIntervention({ frozen, probe, threshold, tokens: tok.encode(`${ABSTAIN}\n`), onlyAfter: tok.encode(ENTITY_PROBE_AT).length });
    const at = (threshold: number): Intervened => {
      const counted = iv(threshold);
      const r = answerRates(world, p, tok, counted.insert);
      const held = answerRates({ ...world, known: entityProbeHeldOutKnown(world), evalUnknown: [] }, p, tok, iv(threshold).insert);
      return { ...r, threshold, abstain_known_probe_unseen: held.abstain_known, fired: counted.state.count / (world.evalUnknown.length + world.known.length) };
    };
    const heldOut = new Set(entityProbeHeldOutKnown(world));
    const seen = world.known.filter((e) => !heldOut.has(e)).map((e) => ({ ids: tok.encode(question(e) + ENTITY_PROBE_AT), label: 0 }));
    const f = captureFeatures(frozen, probe.meta.hook, 'sequence', seen);
    const safe = Math.max(...probe.scoreRows(f.X, f.n)) + 1e-6;
    return { plain: answerRates(world, p, tok), probe_threshold: at(probe.meta.threshold), known_safe: at(safe) };
  } finally {
    run.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, policy, probe] = process.argv.slice(2);
  if (!base || !policy || !probe) { console.error('usage: intervention.ts BASE_CKPT POLICY_CKPT ENTITY_PROBE_DIR'); process.exit(2); }
  console.log(JSON.stringify(await evalIntervention(base, policy, probe)));
}
