// Hallucination world: the runtime intervention, measured. An entity-level probe on the FROZEN
// base (recipes/hallucination/b_entity_probe.yaml) is read at the prompt's last token, right
// before the answer; when it fires, " unknown\n" is inserted and the answer ends there.
// node bin/run-ts.js scripts/hallucination/intervention.ts BASE_CKPT POLICY_CKPT ENTITY_PROBE_DIR
//   → one JSON line: the policy's answer rates without and with the intervention.
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/index.ts';
import { answerRates, worldFromJson, type AnswerRates } from '../../src/data/tasks/hallucination-eval.ts';
import { ABSTAIN, answer, entityProbeHeldOutKnown } from '../../src/data/tasks/hallucination.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/transformer.ts';
import { loadProbe } from '../../src/probes/io.ts';
import { probeIntervention } from '../../src/probes/intervene.ts';
import { loadCheckpoint } from '../../src/trainer/checkpoint.ts';

export interface InterventionEval {
  /** The policy alone. */
  plain: AnswerRates;
  /** The policy with the entity probe's intervention. */
  intervened: AnswerRates;
  /** Over-refusal with the intervention on the 32 known entities the entity probe never trained on. */
  abstain_known_probe_unseen: number;
  /** Share of prompts (all unknown + known) where the probe fired. */
  fired: number;
}

export async function evalIntervention(base: string, policy: string, entityProbeDir: string): Promise<InterventionEval> {
  await initBackend('auto');
  const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));
  const tok = createTokenizer('byte');
  const load = (d: string) => { const c = loadCheckpoint(d); return HookedTransformer.fromValues(c.config, c.weights); };
  const b = load(base);
  const frozen = b.frozenCopy();
  b.dispose();
  const p = load(policy);
  const probe = loadProbe(entityProbeDir, frozen);
  try {
    if (probe.meta.level !== 'sequence') throw new Error(`${entityProbeDir}: the entity probe must be sequence level (read at the prompt's last token), not ${probe.meta.level}`);
    // A fresh intervention per pass: it keeps per-sequence state and a running count.
    const iv = () => probeIntervention({ frozen, probe, tokens: tok.encode(answer(ABSTAIN)), at: 'prompt_end' });
    const plain = answerRates(world, p, tok);
    const counted = iv();
    const intervened = answerRates(world, p, tok, counted.insert);
    const held = answerRates({ ...world, known: entityProbeHeldOutKnown(world), evalUnknown: [] }, p, tok, iv().insert);
    return { plain, intervened, abstain_known_probe_unseen: held.abstain_known, fired: counted.state.count / (world.evalUnknown.length + world.known.length) };
  } finally {
    [p, frozen, probe].forEach((x) => x.dispose());
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, policy, probe] = process.argv.slice(2);
  if (!base || !policy || !probe) { console.error('usage: intervention.ts BASE_CKPT POLICY_CKPT ENTITY_PROBE_DIR'); process.exit(2); }
  console.log(JSON.stringify(await evalIntervention(base, policy, probe)));
}
