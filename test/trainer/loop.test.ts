import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { AdamW, applyGradients, computeGradients, lmLoss, runLoop, train, type LoopTrainer, type StepOutcome } from '../../src/trainer/index.ts';
import { configFromRecipe } from '../../src/models/init-build.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';
import { randomBatch, useCpu } from '../helpers/tiny.ts';
import { tinyRlRecipe } from './rl-tiny-recipe.ts';

beforeAll(useCpu);

/**
 * A trainer of the smallest kind on the driver: one real update per step on a fixed batch,
 * a counter as its own state, and steps `bad` reported non-finite (the update is skipped).
 */
function toyTrainer(model: HookedTransformer, optimizer: AdamW, bad: Set<number>) {
  const batch = randomBatch(1, 2, 8, 257);
  const seen = { calls: 0, restored: -1, evals: [] as number[] };
  const trainer: LoopTrainer<number> = {
    step({ step, lr, logged }): StepOutcome {
      seen.calls += 1;
      const { loss, grads } = computeGradients(model, () => lmLoss(model, batch));
      if (bad.has(step)) {
        tf.dispose(Object.values(grads));
        return { loss: NaN, metrics: {}, stats: {}, nonFinite: ['toy.W'], tokensPerSec: 0 };
      }
      const r = applyGradients(model, grads, { optimizer, lr, loss, stats: logged });
      return { loss, metrics: { 'train/loss': loss }, stats: r.stats, tokensPerSec: 1, line: `loss ${loss.toFixed(3)}` };
    },
    state: () => ({ toy: { calls: seen.calls } }),
    restore(state) {
      seen.restored = (state.toy as { calls: number }).calls;
      seen.calls = seen.restored;
    },
    evaluate() {
      seen.evals.push(seen.calls);
      return { metrics: { 'eval/toy': seen.calls }, line: `toy eval ${seen.calls}`, value: seen.calls };
    },
  };
  return { trainer, seen };
}

describe('the loop driver (runLoop)', () => {
  it('logs, evaluates, checkpoints the trainer state, stops and resumes it; tensors flat', async () => {
    const dir = tempDir();
    const recipe = tinyRecipe(dir, { steps: 6, every: 2 });
    const tokenizer = createTokenizer('byte');
    const model = HookedTransformer.create(configFromRecipe(recipe, tokenizer), 1);
    const plan = { steps: 6, logEvery: 2, evalEvery: 3, maxNonfiniteSteps: 2 };
    const run = async (o: { resume?: boolean; stopAfter?: number }, tracker: MemoryTracker, lines: string[]) => {
      const optimizer = new AdamW({ lr: 1e-2 });
      const toy = toyTrainer(model, optimizer, new Set());
      const r = await runLoop({ recipe, model, tokenizer, optimizer, plan, trainer: toy.trainer, tracker, recipeYaml: '', ...o, onLog: (l) => lines.push(l) });
      optimizer.dispose();
      return { r, seen: toy.seen };
    };
    const n0 = tf.memory().numTensors;
    const t1 = new MemoryTracker();
    const lines: string[] = [];
    const a = await run({ stopAfter: 4 }, t1, lines);
    expect(a.r).toMatchObject({ step: 4, interrupted: true, eval: 3 });
    expect(a.seen.evals).toEqual([3]);
    const state = JSON.parse(readFileSync(join(a.r.checkpoint!, 'state.json'), 'utf8'));
    expect(state).toMatchObject({ step: 4, optimizerT: 4, toy: { calls: 4 } });
    expect(t1.metrics.filter((m) => 'train/loss' in m.record).map((m) => m.step)).toEqual([2, 4]);
    expect(lines).toContain('step 3: toy eval 3');
    expect(lines.some((l) => /^step 2: loss /.test(l))).toBe(true);
    const b = await run({ resume: true }, new MemoryTracker(), lines);
    expect(b.seen.restored).toBe(4);
    expect(b.r).toMatchObject({ step: 6, interrupted: false, eval: 6 }); // the closing evaluation
    expect(b.seen.evals).toEqual([6]); // step 6 is the last: evaluated once, at the end
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });

  it('skips non-finite steps, counts them as train/skipped_steps, and stops after max_nonfinite_steps in a row', async () => {
    const recipe = tinyRecipe(tempDir(), { steps: 8 });
    const tokenizer = createTokenizer('byte');
    const model = HookedTransformer.create(configFromRecipe(recipe, tokenizer), 1);
    const optimizer = new AdamW({ lr: 1e-2 });
    const tracker = new MemoryTracker();
    const toy = toyTrainer(model, optimizer, new Set([2, 4, 5, 6]));
    const plan = { steps: 8, logEvery: 1, evalEvery: 0, maxNonfiniteSteps: 3 };
    await expect(runLoop({ recipe, model, tokenizer, optimizer, plan, trainer: toy.trainer, tracker, recipeYaml: '' })).rejects.toThrow(
      /step 6: the loss is NaN; 3 step\(s\) in a row had NaN or infinite gradients \(toy\.W\)/,
    );
    expect(tracker.values('train/skipped_steps')).toEqual([1, 2, 3, 4]);
    expect(optimizer.t).toBe(2); // steps 1 and 3 applied
    optimizer.dispose();
    model.dispose();
  });
});

describe('RL on the driver', () => {
  it('stops after max_nonfinite_steps naming the tensors, logging train/skipped_steps as SFT does', async () => {
    const recipe = tinyRlRecipe(tempDir(), { steps: 10, overrides: ['trainer.optimizer.lr=1e30', 'gradients=[]', 'trainer.max_nonfinite_steps=2'] });
    const tracker = new MemoryTracker();
    const lines: string[] = [];
    await expect(train(recipe, { tracker, onLog: (l) => lines.push(l) })).rejects.toThrow(/2 step\(s\) in a row had NaN or infinite gradients \(.*blocks\./);
    expect(lines.some((l) => /skipped, non-finite gradients in/.test(l))).toBe(true);
    expect(tracker.values('train/skipped_steps')).toEqual([1, 2]);
    expect(tracker.values('train/skipped_updates')).toEqual([]);
  });

  it('logs the transforms\' stats on logged steps, and SIGINT (interrupt) stops with a checkpoint that resumes', async () => {
    const dir = tempDir();
    const recipe = tinyRlRecipe(dir, { steps: 4, overrides: ['trainer.log_every=2'] });
    const tracker = new MemoryTracker();
    const interrupt = { requested: false };
    const r = await train(recipe, { tracker, interrupt, onStep: (s) => (interrupt.requested = s === 2) });
    expect(r).toMatchObject({ step: 2, interrupted: true });
    const logged = tracker.metrics.filter((m) => 'train/loss' in m.record);
    expect(logged.map((m) => m.step)).toEqual([2]);
    expect(logged[0]!.record['gradients/clip/norm']).toBeGreaterThan(0);
    const state = JSON.parse(readFileSync(join(r.checkpoint!, 'state.json'), 'utf8'));
    expect(state.prompts).toEqual({ cursor: 4, size: 5, seed: 5 }); // 2 steps × batch_size 2
    const done = await train(recipe, { tracker: new MemoryTracker(), resume: true });
    expect(done).toMatchObject({ step: 4, interrupted: false });
  });

  it('evaluates the rewards on data.eval prompts on schedule, without moving training off its course', async () => {
    const plain = new MemoryTracker();
    await train(tinyRlRecipe(tempDir(), { steps: 4 }), { tracker: plain });
    const dir = tempDir();
    const evalFile = join(dir, 'eval.jsonl');
    writeFileSync(evalFile, ['f:', 'g:', 'h:'].map((p) => JSON.stringify({ prompt: p, completion: ' x' })).join('\n') + '\n');
    const tracker = new MemoryTracker();
    const lines: string[] = [];
    await train(tinyRlRecipe(dir, { steps: 4, overrides: [`data.eval={ format: jsonl, path: ${evalFile} }`, 'trainer.eval.every=2'] }), { tracker, onLog: (l) => lines.push(l) });
    expect(tracker.metrics.filter((m) => 'eval/rewards/total/mean' in m.record).map((m) => m.step)).toEqual([2, 4]);
    const at = (t: MemoryTracker, step: number) => t.metrics.find((m) => m.step === step && 'train/loss' in m.record)!.record;
    for (const step of [1, 2, 3, 4]) expect(at(tracker, step)['train/loss']).toBe(at(plain, step)['train/loss']);
    expect(tracker.values('eval/rewards/printable/mean').every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(lines.some((l) => /^step 2: eval reward -?\d\.\d{3} len \d/.test(l))).toBe(true);
    await expect(train(tinyRlRecipe(tempDir(), { steps: 2, overrides: ['trainer.eval.every=1'] }), { tracker: new MemoryTracker() })).rejects.toThrow(
      /trainer\.eval\.every is 1 but data\.eval names no prompts/,
    );
  });
});
