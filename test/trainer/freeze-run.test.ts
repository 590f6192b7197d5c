import { beforeAll, describe, expect, it } from 'vitest';
import { train } from '../../src/trainer/index.ts';
import { tempDir, tinyRecipe, writeTinyCorpus } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('freeze in a run', () => {
  it('freezes globs, heads, neurons and attribution picks, and logs freeze/verified', async () => {
    const dir = tempDir();
    const corpus = writeTinyCorpus(dir);
    const lines: string[] = [];
    const extra = `freeze:
  - "blocks.0.ln1.*"
  - { heads: "blocks.0.attn[1]" }
  - { neurons: "blocks.0.mlp[0,3]" }
  - { attribution: { data: { format: text, path: ${corpus} }, top_percent: 10, batches: 2 } }`;
    const r = await train(tinyRecipe(dir, { steps: 3, extra }), { onLog: (l) => lines.push(l) });
    expect(r.step).toBe(3);
    expect(lines.join('\n')).toMatch(/freeze: \d+ entries frozen \(.*blocks\.0\.attn\.W_Q \d+\/256/);
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
  });

  it('a selector that matches nothing fails the run before training, naming it', async () => {
    const dir = tempDir();
    await expect(train(tinyRecipe(dir, { steps: 2, extra: 'freeze: [ { heads: "blocks.3.attn[0]" } ]' }))).rejects.toThrow(
      /freeze\[0\]\.heads: "blocks\.3\.attn\[0\]" matches nothing/,
    );
  });
});
