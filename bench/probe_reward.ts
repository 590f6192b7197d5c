// Probe reward cost per RL step, side by side with the same run without it.
// node bin/run-ts.js bench/probe_reward.ts [steps=8]
// Same model, prompts, seed and sampling; the only difference is the probe reward (which
// reads the frozen pass's cached activations: no extra forward).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { modelConfig } from '../src/models/index.ts';
import { createTokenizer } from '../src/models/tokenizer.ts';
import { HookedTransformer } from '../src/models/decoder.ts';
import { Probe } from '../src/probes/probe.ts';
import { probeReward, regexReward, type Reward } from '../src/rewards/index.ts';
import { createLossStep } from '../src/trainer/seam.ts';
import { AdamW } from '../src/trainer/optimizer.ts';
import { clippedPg } from '../src/trainer/rl-loss.ts';
import { rlStep } from '../src/trainer/rl.ts';
import { Rng } from '../src/util/rng.ts';

const steps = Number(process.argv[2] ?? 8);
const backend = await initBackend('auto');
const tok = createTokenizer('byte');
const config = modelConfig({ vocabSize: 257, dModel: 64, nLayers: 2, nHeads: 4, nCtx: 32 }); // the hallucination recipes' model
const prompts = Array.from({ length: 8 }, (_, i) => ({ prompt: `Q: colour of Ent${i}?\nA:` }));
const rng = new Rng(0);
const D = config.dModel;
const probeOf = (frozen: HookedTransformer) =>
  new Probe({ name: 'p', hook: 'blocks.1.hook_resid_post', level: 'token', kind: { kind: 'logistic', l2: 0 }, d: D, threshold: 0.5, metrics: {} as never, fingerprint: frozen.fingerprint() },
    { mu: tf.zeros([D]), sigma: tf.ones([D]), w: tf.tensor1d(Array.from({ length: D }, () => rng.normal())), b: tf.scalar(0) });

async function run(withProbe: boolean) {
  const policy = HookedTransformer.create(config, 1);
  const frozen = policy.frozenCopy();
  const optimizer = new AdamW({ lr: 1e-4 });
  const rewards: Reward[] = [regexReward('format', 1, '^ [a-z]+\\n')];
  if (withProbe) rewards.push(probeReward({ name: 'probe', weight: 1, probe: probeOf(frozen), aggregate: 'max', sign: -1, host: 'frozen' }));
  const o = { policy, frozen, tokenizer: tok, rewards, loss: clippedPg(0.2), step: createLossStep({ model: policy, optimizer, transforms: [] }),
    rollout: { G: 8, maxNewTokens: 10, temperature: 1, stopTokens: [10, 256], rng: 5 }, beta: 0.05, scaleByStd: true, innerEpochs: 1 };
  await rlStep(o, prompts); // warm-up
  let step = 0, rewardsT = 0;
  for (let i = 0; i < steps; i++) {
    const { metrics: m } = await rlStep(o, prompts);
    step += m['time/step_s']!;
    rewardsT += m['time/rewards_s']!;
  }
  rewards.forEach((r) => r.dispose?.());
  [policy, frozen].forEach((x) => x.dispose());
  optimizer.dispose();
  return { step: step / steps, rewards: rewardsT / steps };
}

const off = await run(false);
const on = await run(true);
const probeCost = on.rewards - off.rewards; // the probe reward's own time inside the step
console.log(`backend ${backend.name}; model d=${D} L=2; 64 rollouts x ≤10 new tokens; ${steps} steps each`);
console.log(`| run | step (ms) | rewards (ms) |\n|---|---|---|\n| without probe reward | ${(off.step * 1e3).toFixed(1)} | ${(off.rewards * 1e3).toFixed(2)} |\n| with probe reward | ${(on.step * 1e3).toFixed(1)} | ${(on.rewards * 1e3).toFixed(2)} |`);
console.log(`probe reward: ${(probeCost * 1e3).toFixed(2)} ms per step = ${((100 * probeCost) / on.step).toFixed(2)}% of the step (step-time difference ${(((on.step - off.step) / off.step) * 100).toFixed(1)}%, noisy on shared cores)`);
