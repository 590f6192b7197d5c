/**
 * Two real runs of a design recipe for the ui tests: a tiny RL run with a probe reward
 * scored on the frozen copy (plus the same probe on the policy at weight 0, so both hosts
 * are logged), a freeze of blocks.0.attn.* and a runtime intervention, and its control
 * (the same recipe with none of the three). Trained by the real trainer into one store.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { Probe } from '../../src/probes/probe.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { LocalMlflowTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { train } from '../../src/trainer/train.ts';
import { tinyRlRecipe } from '../trainer/rl-tiny-recipe.ts';

export interface DesignRuns {
  store: string;
  design: string;
  control: string;
}

const HOOK = 'blocks.0.hook_resid_post';
/** The design run's name (the control is `control`). */
export const BLUE = 'probe-reward+freeze';

/** A probe with random weights on the tiny RL recipe's init model (so its scores vary by token). */
function saveRandomProbe(dir: string): string {
  const recipe = tinyRlRecipe(join(dir, 'base'));
  const model = buildModel(recipe, createTokenizer('byte'));
  const frozen = model.frozenCopy();
  const d = model.config.dModel;
  const probe = new Probe(
    { name: 'p', hook: HOOK, level: 'token', kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: frozen.fingerprint() },
    { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.randomNormal([d], 0, 1, 'float32', 3), b: tf.scalar(0.1) },
  );
  const path = join(dir, 'probe');
  saveProbe(path, probe);
  [model, frozen, probe].forEach((x) => x.dispose());
  return path;
}

/** Trains both runs into `<dir>/mlruns`, logging system metrics every 50 ms so the system panel has samples. */
export async function trainDesignRuns(dir: string, steps = 6): Promise<DesignRuns> {
  const store = join(dir, 'mlruns');
  for (const d of ['base', 'design', 'control']) mkdirSync(join(dir, d), { recursive: true });
  const probe = saveRandomProbe(dir);
  // The tiny recipe's own rewards, then the probe: penalised on the frozen copy, watched (weight 0) on the policy.
  const rewards = `[{ name: printable, kind: regex, pattern: "^[ -~]", weight: 1.0 }, { name: len, kind: length, target: 2, weight: 0.5 }, { name: correct, kind: exact_match, weight: 0.5 },
    { name: probe, kind: probe, probe: p, aggregate: mean, sign: -1, host: frozen, weight: 1.0 },
    { name: probe_on_policy, kind: probe, probe: p, aggregate: mean, sign: -1, host: policy, weight: 0 }]`;
  const design = tinyRlRecipe(join(dir, 'design'), {
    steps,
    overrides: [`run.name=${BLUE}`, `tracking.uri=${store}`, 'tracking.experiment=design', `rewards=${rewards}`, 'trainer.intervention={ probe: p, insert: "!", max_per_sequence: 1 }'],
    extra: `probes: [ { name: p, hook: ${HOOK}, level: token, checkpoint: ${probe} } ]
freeze: [ "blocks.0.attn.*" ]
`,
  });
  const control = tinyRlRecipe(join(dir, 'control'), { steps, overrides: ['run.name=control', `tracking.uri=${store}`, 'tracking.experiment=design'] });
  const runOne = async (r: typeof design) => (await train(r, { tracker: new LocalMlflowTracker(store, { systemMetricsMs: 50 }) })).runId;
  return { store, design: await runOne(design), control: await runOne(control) };
}
