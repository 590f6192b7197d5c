import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { HEADROOM } from '../../src/trainer/memory-budget.ts';
import { checkRlStepFits, stepShapeOf } from '../../src/trainer/memory-check.ts';
import { estimateStepMemory } from '../../src/trainer/memory-estimate.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';
import { tinyRlRecipe } from './rl-tiny-recipe.ts';

beforeAll(useCpu);

describe('RL step memory check', () => {
  it('counts batch_size × group_size rows of prompt + max_new_tokens and the frozen copy; stops the run before its first step with an RL setting that fits', async () => {
    const dir = tempDir();
    const probe = tinyRlRecipe(dir);
    const model = buildModel(probe, createTokenizer(probe.model.tokenizer));
    // The recipe: batch_size 2 × group_size 4 rows, prompts of 2 bytes + max_new_tokens 4.
    const sft = stepShapeOf(probe, model, 6);
    const rows = (b: number) => estimateStepMemory({ ...sft, batchSize: b, params: 2 * sft.params }).peak;
    expect(checkRlStepFits(probe, model, 'cpu', 2)).toMatch(/^memory: an RL step needs about /);
    expect(checkRlStepFits({ ...probe, memory: { ...probe.memory, budget_mb: (rows(8) / HEADROOM) / 1e6 + 1e-6 } }, model, 'cpu', 2)).toBeDefined();
    expect(() => checkRlStepFits({ ...probe, memory: { ...probe.memory, budget_mb: (rows(8) / HEADROOM) / 1e6 - 1e-3 } }, model, 'cpu', 2)).toThrow(/an? train step needs/);
    model.dispose();
    // A budget where 1 prompt × 4 rollouts fits and the recipe's 2 × 4 does not.
    const mb = rows(4) / HEADROOM / 1e6 + 1e-6;
    const recipe = tinyRlRecipe(dir, { extra: `memory: { budget_mb: ${mb} }` });
    const err = await train(recipe).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/Stopped before the first step; settings that fit:[\s\S]*trainer\.batch_size: 1 \(4 rows per step, was 8; about/);
    expect(err?.message).not.toMatch(/grad_accum/);
    expect(err?.message).toMatch(/trainer\.max_new_tokens: \d+/);
    expect(existsSync(recipe.run.out_dir)).toBe(false); // no run opened, nothing written
  });
});
