import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HookedTransformer, modelConfig } from '../../src/models/index.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';
import { tinyRlRecipe } from './rl-tiny-recipe.ts';

beforeAll(useCpu);

/** Every logged metric by step, wall-clock timings left out (they differ run to run). */
function byStep(...trackers: MemoryTracker[]): Map<number, Record<string, number>> {
  const out = new Map<number, Record<string, number>>();
  for (const t of trackers) {
    for (const { step, record } of t.metrics) {
      // Timings (time/*, tokens per second) differ from run to run; everything else must match.
      const keep = Object.entries(record).filter(([k]) => !k.startsWith('time/') && k !== 'train/tokens_per_sec');
      out.set(step, { ...out.get(step), ...Object.fromEntries(keep) });
    }
  }
  return out;
}

describe('RL --resume', () => {
  it('stop at step 3, resume: every metric of steps 1..6 and the final weights match the straight run; tensors flat', async () => {
    const straight = new MemoryTracker();
    const a = await train(tinyRlRecipe(tempDir(), { steps: 6 }), { tracker: straight });
    expect(a.step).toBe(6);

    const before = tf.memory().numTensors;
    const dir = tempDir();
    const recipe = tinyRlRecipe(dir, { steps: 6 });
    const first = new MemoryTracker();
    const lines: string[] = [];
    const r1 = await train(recipe, { tracker: first, stopAfter: 3 });
    expect(r1).toMatchObject({ step: 3, interrupted: true });
    const second = new MemoryTracker();
    const r2 = await train(recipe, { tracker: second, resume: true, onLog: (l) => lines.push(l) });
    expect(r2).toMatchObject({ step: 6, interrupted: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(lines.some((l) => /^resumed from .*step-00000003 at step 3$/.test(l))).toBe(true);
    // The resumed run logs only steps 4..6: the first three came from the first run.
    expect([...new Set(second.metrics.map((m) => m.step))]).toEqual([4, 5, 6]);

    const want = byStep(straight);
    const got = byStep(first, second);
    expect([...got.keys()]).toEqual([1, 2, 3, 4, 5, 6]);
    for (const [step, rec] of want) {
      expect(Object.keys(got.get(step)!).sort()).toEqual(Object.keys(rec).sort());
      for (const [k, v] of Object.entries(rec)) expect(got.get(step)![k], `step ${step} ${k}`).toBeCloseTo(v, 6);
    }
    // The policy moved, rewards varied within the batch (non-zero advantages), and the resumed run ends on the same weights.
    expect(want.get(6)!['train/kl']).toBeGreaterThan(0);
    expect([...want.values()].some((m) => m['rewards/printable/std']! > 0)).toBe(true);
    const wa = loadCheckpoint(a.checkpoint!).weights;
    const wb = loadCheckpoint(r2.checkpoint!).weights;
    for (const [path, v] of wa) expect(Array.from(wb.get(path)!), path).toEqual(Array.from(v));
  });

  it('the frozen reference on resume is model.init again: a changed init checkpoint is refused, naming both fingerprints', async () => {
    const dir = tempDir();
    const base = join(dir, 'base');
    const config = modelConfig({ vocabSize: 257, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 16 });
    const writeBase = (seed: number) => {
      const m = HookedTransformer.create(config, seed);
      saveCheckpoint(base, { config, tokenizer: 'byte', weights: m.valuesSync() });
      m.dispose();
    };
    writeBase(1);
    const recipe = tinyRlRecipe(dir, { steps: 4, init: `{ checkpoint: ${base} }` });
    await train(recipe, { tracker: new MemoryTracker(), stopAfter: 2 });
    writeBase(2); // e.g. the SFT base was retrained in place
    await expect(train(recipe, { tracker: new MemoryTracker(), resume: true })).rejects.toThrow(
      /--resume: the recipe's model\.init is not the reference this run started from \(.*step-00000002 recorded [0-9a-f]{12}…, model\.init now gives [0-9a-f]{12}…\)/,
    );
    writeBase(1); // the original base again: the run continues
    const r = await train(recipe, { tracker: new MemoryTracker(), resume: true });
    expect(r).toMatchObject({ step: 4, interrupted: false });
  });

  it('refuses to start over an RL run that has checkpoints, and to resume with nothing to resume', async () => {
    const recipe = tinyRlRecipe(tempDir(), { steps: 2 });
    await expect(train(recipe, { tracker: new MemoryTracker(), resume: true })).rejects.toThrow(/--resume: no checkpoint in/);
    await train(recipe, { tracker: new MemoryTracker() });
    await expect(train(recipe, { tracker: new MemoryTracker() })).rejects.toThrow(/already holds checkpoints/);
  });

  it('refuses a checkpoint drawn from other prompts', async () => {
    const dir = tempDir();
    const recipe = tinyRlRecipe(dir, { steps: 4 });
    await train(recipe, { tracker: new MemoryTracker(), stopAfter: 1 });
    const fewer = join(dir, 'fewer.jsonl');
    writeFileSync(fewer, '{"prompt": "a:"}\n{"prompt": "b:"}\n');
    const other = tinyRlRecipe(dir, { steps: 4, overrides: [`data.train.path=${fewer}`] });
    await expect(train(other, { tracker: new MemoryTracker(), resume: true })).rejects.toThrow(/was drawing from 5 prompts \(seed 5\); the recipe gives 2/);
  });
});
