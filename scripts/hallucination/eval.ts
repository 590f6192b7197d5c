// Hallucination world (e): ground-truth evaluation of a base and a policy checkpoint.
// node bin/run-ts.js scripts/hallucination/eval.ts BASE_CKPT POLICY_CKPT PROBE_DIR  → one JSON line
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/index.ts';
import { evaluateHallucination, worldFromJson } from '../../src/data/tasks/hallucination-eval.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadProbe } from '../../src/probes/io.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';

/** A model from a checkpoint directory. */
export const loadModel = (dir: string) => { const c = loadCheckpoint(dir); return HookedTransformer.fromValues(c.config, c.weights); };

/** The backend, the world (data/hallucination/world.json) and its byte tokenizer: where every hallucination script starts. */
export async function loadWorld() {
  await initBackend('auto');
  return { world: worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8'))), tok: createTokenizer('byte') };
}

/** The world, tokenizer, a policy, the frozen base and its probe: what every hallucination script reads. */
export async function loadHallucinationRun(base: string, policy: string, probeDir: string) {
  const { world, tok } = await loadWorld();
  const load = loadModel;
  const b = load(base);
  const frozen = b.frozenCopy();
  b.dispose();
  const p = load(policy);
  const probe = loadProbe(probeDir, frozen);
  return { world, tok, policy: p, frozen, probe, dispose: () => [p, frozen, probe].forEach((x) => x.dispose()) };
}

export async function evalCheckpoints(base: string, policy: string, probeDir: string) {
  const r = await loadHallucinationRun(base, policy, probeDir);
  try {
    return evaluateHallucination(r.world, r.policy, r.frozen, r.probe, r.tok);
  } finally {
    r.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [base, policy, probe] = process.argv.slice(2);
  if (!base || !policy || !probe) { console.error('usage: eval.ts BASE_CKPT POLICY_CKPT PROBE_DIR'); process.exit(2); }
  console.log(JSON.stringify(await evalCheckpoints(base, policy, probe)));
}
