// Hallucination world: the entity probe against the base's own confidence, and the two runtime
// interventions it is compared with, all on the REPORTED split (rules.ts; no rule reads it):
//   - AUROC, unseen vs known entities of the reported split: the probe (read at the answer's
//     leading space on the frozen base), the confidence gate's whole-word colour confidence, and
//     the first-letter confidence at the same position (what the output shows where the probe reads);
//   - a policy alone, with the probe intervention (fires above the rule's threshold → " unknown"),
//     and with the confidence gate (today's rule: just below the least confident validation-known
//     entity), as answer rates on the reported split, plus known accuracy on all 64 known entities
//     for comparison with earlier tables (the 32 validation-known among them are read by the rules).
// node bin/run-ts.js scripts/hallucination/evaluate-probe.ts BASE_CKPT POLICY_CKPT ENTITY_PROBE_DIR [RULES] → one JSON line
import * as tf from '@tensorflow/tfjs';
import { answerRates, type AnswerRates } from '../../src/data/tasks/hallucination-eval.ts';
import { ABSTAIN, COLOURS, ENTITY_PROBE_AT, question, type World } from '../../src/data/tasks/hallucination.ts';
import type { InsertFn } from '../../src/models/generate.ts';
import { captureFeatures } from '../../src/probes/capture.ts';
import { outOfFoldScores } from '../../src/probes/crossfit.ts';
import { LogitLens } from '../../src/probes/logit-lens.ts';
import { probeExamples } from '../../src/probes/recipe.ts';
import { loadAnyRecipe } from '../../src/recipe/index.ts';
import type { CausalLM } from '../../src/models/model.ts';
import type { Tokenizer } from '../../src/models/tokenizer.ts';
import { probeIntervention } from '../../src/probes/intervene.ts';
import { auroc } from '../../src/probes/metrics.ts';
import { colourConfidence, confidenceGate } from './confidence-gate.ts';
import { loadHallucinationRun } from './eval.ts';
import { interventionThreshold, loadRules, refuseReported, type Rules, type SplitFile } from './rules.ts';
import { splitAsWorld } from './select.ts';

export type Rates = AnswerRates & { accuracy_known_all64: number; fired?: number; threshold?: number };

export interface ProbeEval {
  auroc: { probe: number; confidence: number; first_letter: number };
  plain: Rates;
  probe_intervention: Rates;
  confidence_gate: Rates;
}

export async function evaluateProbe(base: string, policy: string, probeDir: string, rulesFile = 'scripts/hallucination/rules.yaml'): Promise<ProbeEval> {
  const rules = loadRules(rulesFile);
  const run = await loadHallucinationRun(base, policy, probeDir);
  const { world, tok, frozen, probe, policy: p } = run;
  try {
    if (probe.meta.level !== 'sequence') throw new Error(`${probeDir}: the entity probe must be sequence level (read at one position), not ${probe.meta.level}`);
    const reported = splitAsWorld(rules.splits.reported);
    const validation = splitAsWorld(rules.splits.validation);
    const prefix = (e: string) => tok.encode(question(e) + ENTITY_PROBE_AT);
    const probeScores = (es: string[]) => { const f = captureFeatures(frozen, probe.meta.hook, 'sequence', es.map((e) => ({ ids: prefix(e), label: 0 }))); return Array.from(probe.scoreRows(f.X, f.n)); };
    const confidence = (es: string[]) => colourConfidence(frozen, tok, es.map(prefix));
    const ents = [...reported.known, ...reported.evalUnknown];
    const y = [...reported.known.map(() => 0), ...reported.evalUnknown.map(() => 1)];
    const auc = {
      probe: auroc(probeScores(ents), y),
      confidence: auroc(confidence(ents).map((c) => 1 - c), y),
      first_letter: auroc(firstLetterConfidence(frozen, tok, ents.map(prefix)).map((c) => 1 - c), y),
    };
    // The rules' thresholds, from the validation-known entities only.
    const oof = outOfFoldKnownScores(frozen, tok, base, rules.intervention, rules.splits.reported);
    const probeThreshold = interventionThreshold(oof, reported.known.length, rules.intervention);
    const gateThreshold = Math.min(...confidence(validation.known)) - 1e-6;
    const at = tok.encode(ENTITY_PROBE_AT).length;
    const unknown = tok.encode(`${ABSTAIN}\n`);
    const all64: World = { ...world, evalUnknown: [] };
    const rates = (make?: () => { insert: InsertFn; state: { count: number } }, threshold?: number): Rates => {
      const m = make?.();
      const r = answerRates(reported, p, tok, m?.insert);
      const fired = m ? m.state.count / (reported.known.length + reported.evalUnknown.length) : undefined;
      return { ...r, accuracy_known_all64: answerRates(all64, p, tok, make?.().insert).accuracy_known, ...(m ? { fired, threshold } : {}) };
    };
    return {
      auroc: auc,
      plain: rates(),
      probe_intervention: rates(() => probeIntervention({ frozen, probe, threshold: probeThreshold, tokens: unknown, onlyAfter: at }), probeThreshold),
      confidence_gate: rates(() => confidenceGate({ frozen, tok, threshold: gateThreshold, tokens: unknown, onlyAfter: at }), gateThreshold),
    };
  } finally {
    run.dispose();
  }
}

/**
 * The entity probe's known entities (its training data's negatives), each scored by the probe
 * refit without its fold (crossfit.ts), with the probe recipe's own data and fit settings.
 */
export function outOfFoldKnownScores(frozen: CausalLM, tok: Tokenizer, base: string, rule: Rules['intervention'], reported: SplitFile): number[] {
  const r = loadAnyRecipe(rule.probe_recipe, { overrides: [`model.init.checkpoint=${base}`, 'tracking.uri=none'] });
  const p = r.probes[0];
  if (!p?.train) throw new Error(`${rule.probe_recipe}: probes.0 has no train section to refit`);
  refuseReported(p.train.data, reported, `the entity probe's training data (${rule.probe_recipe})`);
  const lens = p.features === 'logit_lens' ? new LogitLens(frozen) : undefined;
  const f = captureFeatures(frozen, p.hook, p.level, probeExamples(p.train.data, tok, p.level), 32, lens && ((a) => lens.encode(a)));
  const o = { name: p.name, hook: p.hook, level: p.level, kind: p.kind, fingerprint: frozen.fingerprint(), seed: p.train.seed, heldOut: p.train.held_out, maxEpochs: p.train.max_epochs, patience: p.train.patience };
  return outOfFoldScores(f, o, (i) => f.y[i] === 0, rule.folds);
}

/** Per prefix: the largest probability the frozen model gives a colour's first token next (the output where the probe reads). */
export function firstLetterConfidence(model: Parameters<typeof colourConfidence>[0], tok: Parameters<typeof colourConfidence>[1], prefixes: number[][]): number[] {
  const firsts = [...new Set(COLOURS.map((c) => tok.encode(c)[0]!))];
  const T = Math.max(...prefixes.map((q) => q.length));
  const flat = new Int32Array(prefixes.length * T); // right-padded: each row's last real position is exact
  prefixes.forEach((q, i) => flat.set(q, i * T));
  const probs = tf.tidy(() => tf.softmax(model.forward(tf.tensor2d(flat, [prefixes.length, T], 'int32')).logits).arraySync() as number[][][]);
  return prefixes.map((q, i) => Math.max(...firsts.map((f) => probs[i]![q.length - 1]![f]!)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, policy, probe, rules] = process.argv.slice(2);
  if (!base || !policy || !probe) { console.error('usage: evaluate-probe.ts BASE_CKPT POLICY_CKPT ENTITY_PROBE_DIR [RULES]'); process.exit(2); }
  console.log(JSON.stringify(await evaluateProbe(base, policy, probe, rules)));
}
