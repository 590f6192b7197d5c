import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { buildFreezer } from '../../src/trainer/design.ts';
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

  it('a selector that matches nothing is refused when the recipe loads, before anything is built, naming it', () => {
    const dir = tempDir();
    expect(() => tinyRecipe(dir, { steps: 2, extra: 'freeze: [ { heads: "blocks.3.attn[0]" } ]' })).toThrow(
      /freeze\.0\.heads: "blocks\.3\.attn\[0\]" names block 3 but the model has \d+/,
    );
  });

  it('attribution with scores: random freezes as many entries of the same tensors, other ones, fixed by run.seed', () => {
    const dir = tempDir();
    const corpus = writeTinyCorpus(dir);
    const frozen = (scores: string, seed: number) => {
      const recipe = tinyRecipe(dir, {
        extra: `freeze: [ { attribution: { data: { format: text, path: ${corpus} }, top_percent: 30, batches: 2, scores: ${scores} } } ]`,
        overrides: [`run.seed=${seed}`],
      });
      const tok = createTokenizer('byte');
      const model = buildModel(recipe, tok);
      const f = buildFreezer(recipe, model, tok, 8)!;
      const picked = new Map([...f.masks].map(([path, m]) => [path, m.all ? 'all' : Array.from(m.frozen!.dataSync()).join('')]));
      const out = { total: f.counts.total, paths: Object.keys(f.counts.byPath).sort(), picked };
      f.dispose();
      model.dispose();
      return out;
    };
    const byAttribution = frozen('gradient_x_weight', 0);
    const atRandom = frozen('random', 0);
    expect(atRandom.total).toBe(byAttribution.total);
    expect(atRandom.paths).toEqual(byAttribution.paths);
    expect(atRandom.picked).not.toEqual(byAttribution.picked);
    expect(frozen('random', 0).picked).toEqual(atRandom.picked);
    expect(frozen('random', 1).picked).not.toEqual(atRandom.picked);
  });

  it('attribution per example scores the same examples one at a time, and fisher picks by g²: each its own selection', () => {
    const dir = tempDir();
    const corpus = writeTinyCorpus(dir);
    const picked = (opts: string) => {
      const recipe = tinyRecipe(dir, { extra: `freeze: [ { attribution: { data: { format: text, path: ${corpus} }, top_percent: 30, batches: 2${opts} } } ]` });
      const tok = createTokenizer('byte');
      const model = buildModel(recipe, tok);
      const f = buildFreezer(recipe, model, tok, 8)!;
      const out = { total: f.counts.total, masks: [...f.masks].map(([path, m]) => `${path}:${m.all ? 'all' : Array.from(m.frozen!.dataSync()).join('')}`).join('|') };
      f.dispose();
      model.dispose();
      return out;
    };
    const batch = picked('');
    const example = picked(', per: example');
    const fisher = picked(', per: example, scores: fisher');
    expect(example.total).toBe(batch.total);
    expect(fisher.total).toBe(batch.total);
    expect(example.masks).not.toEqual(batch.masks);
    expect(fisher.masks).not.toEqual(example.masks);
    expect(picked(', per: batch').masks).toEqual(batch.masks); // per: batch is the default
  });
});
