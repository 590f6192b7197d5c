/**
 * A complete RL loop written by hand on bonsai's parts — no recipe, no `bonsai train`.
 * It is what a researcher with their own tfjs loop would copy: each stage is one call.
 *
 *   node bin/run-ts.js examples/custom-loop.ts [--steps 40] [--mlruns ./mlruns]
 *
 * The toy task: a tiny byte-level model, prompted with words, is rewarded for writing the
 * letter "a" and penalised — by a probe that reads the FROZEN copy's activations — for
 * writing digits. Along the way it shows circuit freezing (block 0's attention held
 * bit-identical), a gradient transform (clipping), and MLflow tracking.
 *
 * In your own project import from 'bonsai' instead of '../src/index.ts'.
 */
import * as tf from '@tensorflow/tfjs';
import {
  AdamW, applyGradients, captureFeatures, clipTransform, clippedPg, computeGradients, createTokenizer, fitProbe, Freezer,
  frozenPass, groupAdvantages, HookedTransformer, initBackend, k3, LocalMlflowTracker, modelConfig, probeReward,
  rollout, Rng, scoreRewards, selectGlob, tokenLogprobs, tokenMean, type ProbeExample, type Reward,
} from '../src/index.ts';

export interface CustomLoopOptions {
  steps: number;
  /** MLflow file store to log to; omit to log nothing. */
  mlruns?: string;
  seed?: number;
  onStep?(step: number, metrics: Record<string, number>): void;
}

/** A reward is a plain object: name, weight, and one score per rollout. */
const letterA: Reward = {
  name: 'letter_a',
  weight: 1,
  score: (batch) => batch.texts.map((t) => (t.length ? [...t].filter((c) => c === 'a').length / t.length : 0)),
};

const PROMPTS = ['cat ', 'tree ', 'moss ', 'leaf ', 'root ', 'pine ', 'bark ', 'seed '];

/** Runs the loop; returns each step's metrics. */
export async function customLoop(o: CustomLoopOptions): Promise<Record<string, number>[]> {
  const seed = o.seed ?? 0;
  const tok = createTokenizer('byte');
  const policy = HookedTransformer.create(modelConfig({ vocabSize: tok.vocabSize, dModel: 32, nLayers: 2, nHeads: 2, nCtx: 24 }), seed);
  // The frozen copy has its own variables: the policy can never reshape what the probe reads.
  const frozen = policy.frozenCopy();

  // 1. A probe on the frozen copy: does this token look like a digit? (token-level labels)
  // Every printable ASCII character, in 8 seeded orders, cut into context-sized examples.
  const shuffler = new Rng(seed);
  const examples: ProbeExample[] = Array.from({ length: 8 }, () => shuffler.shuffle(Array.from({ length: 95 }, (_, i) => 32 + i)))
    .flatMap((order) => [0, 24, 48, 72].map((at) => order.slice(at, at + 24)))
    .map((ids) => ({ ids, tokenLabels: ids.map((t) => (t >= 48 && t <= 57 ? 1 : 0)) }));
  const hook = 'blocks.0.hook_resid_post';
  const feats = captureFeatures(frozen, hook, 'token', examples);
  const probe = fitProbe(feats, { name: 'digits', hook, level: 'token', kind: { kind: 'logistic', l2: 1e-3 }, fingerprint: frozen.fingerprint(), seed });
  console.log(`probe held-out AUROC ${probe.meta.metrics.auroc.toFixed(3)}`);
  const rewards: Reward[] = [letterA, probeReward({ name: 'no_digits', weight: 0.5, probe, aggregate: 'mean', sign: -1, host: 'frozen' })];

  // 2. Circuit freezing and the gradient transforms. One call installs the freeze on both
  //    sides: its gradient mask (before the transforms) and AdamW's (decay, moments).
  const freezer = new Freezer(policy.params, selectGlob(policy.params, 'blocks.0.attn.*'));
  const optimizer = new AdamW({ lr: 3e-3, weightDecay: 0 });
  freezer.install(optimizer);
  const transforms = [clipTransform(1.0)];
  const loss = clippedPg(0.2);

  const tracker = o.mlruns ? new LocalMlflowTracker(o.mlruns) : undefined;
  await tracker?.startRun({ experiment: 'custom-loop', runName: `custom-loop-seed${seed}` });
  await tracker?.logParams({ steps: String(o.steps), seed: String(seed), freeze: freezer.describe() });

  const rng = new Rng(seed + 1);
  const history: Record<string, number>[] = [];
  try {
    for (let step = 1; step <= o.steps; step++) {
      // 3. Rollouts: G samples for each of 4 prompts, one right-padded batch.
      const items = Array.from({ length: 4 }, () => ({ prompt: PROMPTS[rng.int(PROMPTS.length)]! }));
      const { batch } = rollout(policy, tok, items, { G: 4, maxNewTokens: 8, temperature: 1, rng });
      // 4. ONE frozen forward: reference log-probs (KL) and the probe's activations.
      const ref = frozenPass(frozen, batch, rewards);
      const scored = await scoreRewards(rewards, batch, { frozen: ref });
      const idsT = tf.tensor2d(batch.ids, [batch.R, batch.T], 'int32'); // [R, T]
      const mask = tf.tensor2d(batch.mask, [batch.R, batch.T - 1]); // [R, T-1]
      const adv = tf.tensor2d(groupAdvantages(scored.total, 4, true), [batch.R, 1]); // [R, 1]
      const old = tf.tidy(() => tokenLogprobs(policy.forward(idsT).logits, idsT)); // [R, T-1]
      // 5. Policy loss + β·KL by hand; gradients by parameter path; then the freeze mask, the
      //    transforms in order and AdamW — skipped (nothing moves) if anything is NaN or infinite.
      const { loss: value, grads } = computeGradients(policy, () => {
        const lp = tokenLogprobs(policy.forward(idsT).logits, idsT);
        const pg = loss.perToken({ logprobs: lp, oldLogprobs: old, adv }).loss;
        return tf.add(tokenMean(pg, mask), tf.mul(0.02, tokenMean(k3(lp, ref.refLogprobs), mask))) as tf.Scalar;
      });
      const applied = applyGradients(policy, grads, { optimizer, transforms, loss: value });
      tf.dispose([idsT, mask, adv, old, ref.refLogprobs]);
      ref.cache.dispose();
      if (applied.nonFinite) throw new Error(`step ${step}: non-finite gradients in ${applied.nonFinite.join(', ')}`);
      const metrics = { 'train/loss': value, ...scored.metrics, ...applied.stats };
      tracker?.logMetrics(step, metrics);
      history.push(metrics);
      o.onStep?.(step, metrics);
    }
    // 6. The freezing promise, checked bit for bit.
    const check = freezer.verify(policy.params);
    if (!check.ok) throw new Error(`frozen entries moved: ${JSON.stringify(check.changed)}`);
    await tracker?.endRun('FINISHED');
    return history;
  } catch (e) {
    await tracker?.endRun('FAILED');
    throw e;
  } finally {
    rewards.forEach((r) => r.dispose?.());
    probe.dispose();
    freezer.dispose();
    optimizer.dispose();
    frozen.dispose();
    policy.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const backend = await initBackend('auto');
  console.log(`backend: ${backend.name}`);
  const steps = Number(arg('steps') ?? 40);
  await customLoop({
    steps,
    mlruns: arg('mlruns') ?? './mlruns',
    onStep: (s, m) => {
      if (s % 5 === 0 || s === steps) console.log(`step ${s}: letter_a ${m['rewards/letter_a/mean']!.toFixed(3)}  no_digits ${m['rewards/no_digits/mean']!.toFixed(3)}  total ${m['rewards/total/mean']!.toFixed(3)}`);
    },
  });
}
