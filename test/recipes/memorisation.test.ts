import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { memorisationWorld } from '../../src/data/tasks/memorisation.ts';
import { evaluateMemorisation } from '../../src/data/tasks/memorisation-eval.ts';
import { runEdit } from '../../src/gradients/index.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { loadEditRecipe, loadRecipe } from '../../src/recipe/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { useCpu } from '../helpers/tiny.ts';

const ROOT = join(import.meta.dirname, '..', '..');
beforeAll(useCpu);

describe('memorisation recipes run tiny', () => {
  // Slow on a shared cpu (a 256-wide eigen-decomposition per matrix, the pure-JS backend): its own timeout.
  it('base (3 steps) → K-FAC edit, ρ by its rule → random control at that ρ, reusing its factors → eval', { timeout: 400_000 }, async () => {
    const prev = process.cwd();
    process.chdir(ROOT); // recipe paths resolve against the repo root
    try {
      const out = mkdtempSync(join(tmpdir(), 'bonsai-memo-'));
      const base = await train(loadRecipe('recipes/memorisation-base.yaml', { overrides: ['trainer.steps=3', 'trainer.eval.batches=1', 'backend=cpu', 'tracking.uri=none', `run.out_dir=${out}/base`] }));
      const edit = (file: string, eigen?: ReturnType<typeof runEdit>['eigen']) =>
        runEdit(loadEditRecipe(file, { overrides: ['backend=cpu', `run.out_dir=${out}/${file.includes('random') ? 'random' : 'kfac'}`, `model.init.checkpoint=${base.checkpoint}`, 'edit.tokens=60', `edit.factors=${out}/factors.safetensors`, 'edit.choose_rho.step=0.25', 'edit.choose_rho.max_loss_increase=100'] }), { eigen });
      const kfac = edit('recipes/memorisation-kfac.yaml');
      expect(kfac.factorsReused).toBe(false);
      const random = edit('recipes/memorisation-random.yaml', kfac.eigen); // a ρ sweep reuses the decompositions too
      expect(random.factorsReused).toBe(true);
      // Same count removed per matrix; the curvature choice keeps more of the curvature mass.
      expect(kfac.choice!.tried[0]!.rho).toBe(0.75);
      expect(kfac.choice!.rho).toBe(0.5); // a budget nothing exceeds walks the grid to min_rho
      expect(random.choice!.rho).toBe(kfac.choice!.rho);
      kfac.targets.forEach((t, i) => {
        expect(random.targets[i]!.kept).toBe(t.kept);
        expect(t.massKept).toBeGreaterThan(random.targets[i]!.massKept);
      });
      expect(existsSync(join(kfac.output, 'model.safetensors'))).toBe(true);
      const ck = loadCheckpoint(kfac.output);
      const m = HookedTransformer.fromValues(ck.config, ck.weights);
      const w = memorisationWorld(0, { ruleTrain: 4, ruleEval: 4, memorised: 3, repeats: 1 });
      const before = tf.memory().numTensors;
      const e = evaluateMemorisation(m, createTokenizer('byte'), w.memorised, w.ruleEval);
      expect(tf.memory().numTensors).toBe(before);
      for (const v of [e.strict_recall, e.loose_recall, e.rule_accuracy]) expect(v).toBeGreaterThanOrEqual(0);
      expect(e.rule_perplexity).toBeGreaterThan(1);
      m.dispose();
    } finally {
      process.chdir(prev);
    }
  });
});
