import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, HookedTransformer, modelConfig } from '../../src/models/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { captureFeatures, Probe, probeIntervention } from '../../src/probes/index.ts';
import { constantProbe } from '../helpers/probe.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const tok = createTokenizer('byte');
const hook = 'blocks.0.hook_resid_post';

/** A sequence-level logistic probe with seeded random weights: its score differs from prompt to prompt. */
function randomProbe(model: HookedTransformer): Probe {
  const d = model.config.dModel;
  return new Probe(
    { name: 'rand', hook, level: 'sequence', kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: model.fingerprint() },
    { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.randomNormal([d], 0, 1, 'float32', 7), b: tf.scalar(0) },
  );
}

describe('probeIntervention: where the probe is read', () => {
  it('by default the probe is read before each new token (up to max_per_sequence); with onlyAfter, once, after that many new tokens', () => {
    const policy = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), 1);
    const frozen = policy.frozenCopy();
    const probe = constantProbe(frozen, hook, 5); // fires everywhere
    const marker = tok.encode('?');
    const before = tf.memory().numTensors;
    for (const [onlyAfter, want, firstInserted] of [[undefined, 3, 0], [0, 1, 0], [2, 1, 2]] as const) {
      const iv = probeIntervention({ frozen, probe, tokens: marker, maxPerSequence: 3, onlyAfter });
      const g = generate(policy, [tok.encode('Q:'), tok.encode('R:')], { maxNewTokens: 6, temperature: 0, insert: iv.insert });
      expect(g.interventions, `onlyAfter ${onlyAfter}`).toEqual([want, want]);
      expect(iv.state.count).toBe(2 * want);
      expect(g.inserted[0]!.indexOf(true), `onlyAfter ${onlyAfter}: where the marker goes`).toBe(firstInserted);
    }
    expect(() => probeIntervention({ frozen, probe, tokens: marker, onlyAfter: -1 })).toThrow(/onlyAfter must be a whole number/);
    expect(tf.memory().numTensors).toBe(before);
    [probe, frozen, policy].forEach((x) => x.dispose());
  });

  it("onlyAfter 0 fires on exactly the prompts whose last-token score is over the threshold", () => {
    const policy = HookedTransformer.create(modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 }), 3);
    const frozen = policy.frozenCopy();
    const probe = randomProbe(frozen);
    const prompts = ['Q: ab?', 'Q: cd?', 'Q: ef?', 'Q: gh?'].map((p) => tok.encode(p));
    // The probe's score at each prompt's last token, read the way probe training reads it.
    const f = captureFeatures(frozen, hook, 'sequence', prompts.map((ids) => ({ ids, label: 0 })));
    const s = Array.from(probe.scoreRows(f.X, f.n));
    const sorted = [...s].sort((a, b) => a - b);
    expect(sorted[1]! < sorted[2]!).toBe(true);
    const threshold = (sorted[1]! + sorted[2]!) / 2; // two prompts above, two below
    const iv = probeIntervention({ frozen, probe, tokens: tok.encode('!'), onlyAfter: 0, threshold, maxPerSequence: 5 });
    const g = generate(policy, prompts, { maxNewTokens: 4, temperature: 0, insert: iv.insert });
    expect(g.interventions).toEqual(s.map((x) => (x >= threshold ? 1 : 0)));
    [probe, frozen, policy].forEach((x) => x.dispose());
  });
});
