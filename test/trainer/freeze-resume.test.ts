import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, latestCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir, tinyRecipe, writeTinyCorpus } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Attribution picks entries by the weights it scores, so a resume must reuse the run's first pick. */
describe('freeze selection across --resume', () => {
  it("an attribution-frozen run stopped and resumed ends with the straight run's weights, bit for bit", async () => {
    const recipeIn = (dir: string) => {
      const corpus = writeTinyCorpus(dir);
      return tinyRecipe(dir, { steps: 8, extra: `freeze: [ { attribution: { data: { format: text, path: ${corpus} }, top_percent: 40, batches: 2 } } ]` });
    };
    const straightDir = tempDir();
    await train(recipeIn(straightDir));
    const splitDir = tempDir();
    const recipe = recipeIn(splitDir);
    await train(recipe, { stopAfter: 3 });
    expect(existsSync(join(recipe.run.out_dir, 'freeze-selection.safetensors'))).toBe(true);
    const lines: string[] = [];
    await train(recipe, { resume: true, onLog: (l) => lines.push(l) });
    expect(lines).toContain('freeze: the selection this run started with, read back from out_dir');
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
    const a = loadCheckpoint(latestCheckpoint(join(straightDir, 'out'))!).weights;
    const b = loadCheckpoint(latestCheckpoint(recipe.run.out_dir)!).weights;
    for (const [path, w] of a) expect(Buffer.from(b.get(path)!.buffer).equals(Buffer.from(w.buffer)), path).toBe(true);
  });
});
