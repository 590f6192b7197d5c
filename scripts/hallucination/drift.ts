// Do the probe's score and the ground truth part ways? For a policy's own greedy answers to
// the eval-only unseen entities, the probe's score (max over the answer tokens) read from the
// policy's activations and from the frozen base's, split by what the answer was. A policy that
// learnt to hide hallucinations from a probe on its own activations (host: policy) shows as
// hallucinations that score low on the policy but high on the frozen base.
// node bin/run-ts.js scripts/hallucination/drift.ts BASE_CKPT POLICY_CKPT PROBE_DIR
import * as tf from '@tensorflow/tfjs';
import { judge, question } from '../../src/data/tasks/hallucination.ts';
import { generate } from '../../src/models/generate.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { tokenFeatures } from '../../src/probes/capture.ts';
import type { Probe } from '../../src/probes/probe.ts';
import { loadHallucinationRun } from './eval.ts';

const [baseDir, policyDir, probeDir] = process.argv.slice(2);
if (!baseDir || !policyDir || !probeDir) { console.error('usage: drift.ts BASE_CKPT POLICY_CKPT PROBE_DIR'); process.exit(2); }
const { world, tok, policy, frozen, probe, dispose } = await loadHallucinationRun(baseDir, policyDir, probeDir);

/** Max probe score over the answer tokens of prompt + answer, read from model m. */
function score(m: CausalLM, p: Probe, prompt: number[], ans: number[]): number {
  const ids = [...prompt, ...ans];
  return tf.tidy(() => {
    const { logits, cache } = m.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), { cache: p.meta.hook });
    logits.dispose();
    const s = p.score(tokenFeatures(cache.get(p.meta.hook))).dataSync(); // [1, T]
    return Math.max(...Array.from(s.slice(prompt.length)));
  });
}
const prompts = world.evalUnknown.map((e) => tok.encode(question(e)));
const g = generate(policy, prompts, { maxNewTokens: 10, temperature: 0, stopTokens: [tok.encode('\n')[0]!, tok.eosId] });
const groups = new Map<string, { policy: number[]; frozen: number[] }>();
world.evalUnknown.forEach((e, i) => {
  const ans = g.tokens[i]!;
  if (ans.length === 0) return;
  const k = judge(world, e, tok.decode(ans));
  const r = groups.get(k) ?? { policy: [], frozen: [] };
  r.policy.push(score(policy, probe, prompts[i]!, ans));
  r.frozen.push(score(frozen, probe, prompts[i]!, ans));
  groups.set(k, r);
});
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const [k, r] of groups) {
  const th = probe.meta.threshold;
  const hidden = r.policy.filter((v, i) => v < th && r.frozen[i]! >= th).length;
  console.log(`${k} (${r.policy.length}): probe on policy ${mean(r.policy).toFixed(3)}, on frozen base ${mean(r.frozen).toFixed(3)}; below the threshold (${th.toFixed(2)}) on the policy but not on the base: ${hidden}`);
}
dispose();
