// Hallucination world: a runtime intervention on the frozen base's OWN confidence, next to the
// entity probe's (intervention.ts). Read once, at the answer's leading space: the frozen base's
// probability of its likeliest colour answer (teacher-forced: max over the 8 colours of
// p(colour + "\n" | prefix)); below a threshold, "unknown\n" is inserted and the answer ends.
// The threshold comes from the VALIDATION split only (splits.ts: the 32 known entities the entity
// probe trains on, none of the 32 reported ones): just below the least
// confident of them, so no validation known entity is refused. Fixed before any test number.
// node bin/run-ts.js scripts/hallucination/confidence-gate.ts BASE_CKPT POLICY_CKPT PROBE_DIR → one JSON line
import * as tf from '@tensorflow/tfjs';
import { answerRates, type AnswerRates } from '../../src/data/tasks/hallucination-eval.ts';
import { ABSTAIN, COLOURS, ENTITY_PROBE_AT, question } from '../../src/data/tasks/hallucination.ts';
import type { InsertFn } from '../../src/models/generate.ts';
import type { CausalLM } from '../../src/models/model.ts';
import type { Tokenizer } from '../../src/models/tokenizer.ts';
import { tokenLogprobs } from '../../src/models/logprobs.ts';
import { loadHallucinationRun } from './eval.ts';
import { splitEntities, splitWorld } from './splits.ts';

/** Per prefix: max over the colours of p(colour + "\n" | prefix), teacher-forced on `model`. */
export function colourConfidence(model: CausalLM, tok: Tokenizer, prefixes: number[][]): number[] {
  const nCtx = model.config.nCtx;
  const words = COLOURS.map((c) => tok.encode(`${c}\n`));
  const rows = prefixes.flatMap((p) => words.map((w) => ({ ids: [...p, ...w].slice(-nCtx), n: w.length })));
  const T = Math.max(...rows.map((r) => r.ids.length));
  const flat = new Int32Array(rows.length * T); // right-padded with 0: causal, so the padding reads nothing back
  rows.forEach((r, i) => flat.set(r.ids, i * T));
  const lp = tf.tidy(() => {
    const ids = tf.tensor2d(flat, [rows.length, T], 'int32');
    return tokenLogprobs(model.forward(ids).logits as tf.Tensor3D, ids).arraySync(); // [R, T-1]
  });
  return prefixes.map((_, k) => Math.max(...words.map((_, c) => {
    const i = k * words.length + c;
    const { ids, n } = rows[i]!;
    let s = 0;
    for (let t = ids.length - n - 1; t < ids.length - 1; t++) s += lp[i]![t]!;
    return Math.exp(s);
  })));
}

/** An `insert` callback: after `onlyAfter` generated tokens, abstain where the frozen model's confidence is below `threshold`. */
export function confidenceGate(o: { frozen: CausalLM; tok: Tokenizer; threshold: number; tokens: number[]; onlyAfter: number }) {
  const promptLength = new WeakMap<number[], number>();
  const state = { count: 0 };
  const insert: InsertFn = (_rows, seqs) => {
    for (const s of seqs) if (!promptLength.has(s)) promptLength.set(s, s.length);
    const todo = seqs.map((s, j) => (s.length - promptLength.get(s)! === o.onlyAfter ? j : -1)).filter((j) => j >= 0);
    const out: Array<number[] | null> = seqs.map(() => null);
    if (!todo.length) return out;
    const conf = colourConfidence(o.frozen, o.tok, todo.map((j) => seqs[j]!));
    todo.forEach((j, k) => { if (conf[k]! < o.threshold) { out[j] = o.tokens; state.count++; } });
    return out;
  };
  return { insert, state };
}

export interface GateEval {
  threshold: number;
  plain: AnswerRates;
  gated: AnswerRates & { abstain_known_test_only: number; fired: number; val_hallucination_unknown: number };
}

export async function evalConfidenceGate(base: string, policy: string, probeDir: string): Promise<GateEval> {
  const run = await loadHallucinationRun(base, policy, probeDir);
  const { world, tok, frozen, policy: p } = run;
  try {
    const val = splitWorld(world, 'validation');
    const at = tok.encode(ENTITY_PROBE_AT).length;
    const threshold = Math.min(...colourConfidence(frozen, tok, val.known.map((e) => tok.encode(question(e) + ENTITY_PROBE_AT)))) - 1e-6;
    const gate = () => confidenceGate({ frozen, tok, threshold, tokens: tok.encode(`${ABSTAIN}\n`), onlyAfter: at });
    const g = gate();
    const r = answerRates(world, p, tok, g.insert);
    return {
      threshold,
      plain: answerRates(world, p, tok),
      gated: {
        ...r,
        abstain_known_test_only: answerRates({ ...world, known: splitEntities(world, 'reported').known, evalUnknown: [] }, p, tok, gate().insert).abstain_known,
        fired: g.state.count / (world.evalUnknown.length + world.known.length),
        val_hallucination_unknown: answerRates({ ...val, known: [] }, p, tok, gate().insert).hallucination_unknown,
      },
    };
  } finally {
    run.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, policy, probe] = process.argv.slice(2);
  if (!base || !policy || !probe) { console.error('usage: confidence-gate.ts BASE_CKPT POLICY_CKPT PROBE_DIR'); process.exit(2); }
  console.log(JSON.stringify(await evalConfidenceGate(base, policy, probe)));
}
