import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureFeatures, fitProbe, loadProbe, saveProbe, type ProbeExample } from '../../src/probes/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { tempDir } from '../helpers/recipes.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** Label = whether token 5 appears in the sequence: linearly readable from a mean span. */
function examples(n: number, seed: number): ProbeExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const ids = Array.from({ length: 6 }, () => 6 + rng.int(17));
    const label = rng.next() < 0.3 ? 1 : 0; // imbalanced on purpose: class weights must cope
    if (label) ids[rng.int(6)] = 5;
    return { ids, label, span: [0, 6] as [number, number] };
  });
}

describe('probes on a frozen copy', () => {
  it('logistic and MLP probes learn a known concept; metrics are held out; no tensors leak', () => {
    const model = tinyModel(1).frozenCopy();
    const before = tf.memory().numTensors;
    const f = captureFeatures(model, 'hook_embed', 'sequence', examples(160, 2));
    expect([f.n, f.d]).toEqual([160, 16]);
    for (const kind of [{ kind: 'logistic' as const, l2: 1e-3 }, { kind: 'mlp' as const, hidden: 16, l2: 1e-4 }]) {
      const p = fitProbe(f, { name: 'has5', hook: 'hook_embed', level: 'sequence', kind, fingerprint: model.fingerprint(), seed: 0 });
      expect(p.meta.metrics.n).toBe(32);
      expect(p.meta.metrics.auroc).toBeGreaterThan(0.95);
      expect(p.meta.metrics.f1).toBeGreaterThan(0.8);
      p.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('token level reads labelled positions; a hook that does not exist lists the valid ones', () => {
    const model = tinyModel(1).frozenCopy();
    const f = captureFeatures(model, 'blocks.1.hook_resid_post', 'token', [{ ids: [1, 2, 3, 4], positions: [1, 3], tokenLabels: [0, 1] }]);
    expect([f.n, f.d, Array.from(f.y)]).toEqual([2, 16, [0, 1]]);
    const z = captureFeatures(model, 'blocks.0.attn.hook_z', 'token', [{ ids: [1, 2], label: 1 }]);
    expect(z.d).toBe(16); // [H, dh] flattened
    expect(() => captureFeatures(model, 'blocks.9.hook_resid_post', 'token', [])).toThrow(/not a hook point.*valid hooks: hook_embed, hook_pos_embed, blocks\.0\.hook_resid_pre/);
    model.dispose();
  });

  it('save/load round-trips; loading against another model is an error that says so', () => {
    const model = tinyModel(1).frozenCopy();
    const f = captureFeatures(model, 'hook_embed', 'sequence', examples(60, 3));
    const p = fitProbe(f, { name: 'has5', hook: 'hook_embed', level: 'sequence', kind: { kind: 'logistic', l2: 1e-3 }, fingerprint: model.fingerprint() });
    const dir = tempDir();
    saveProbe(dir, p);
    const q = loadProbe(dir, model);
    expect(q.meta.threshold).toBe(p.meta.threshold);
    expect(Array.from(q.scoreRows(f.X, f.n))).toEqual(Array.from(p.scoreRows(f.X, f.n)));
    const other = tinyModel(2).frozenCopy();
    expect(() => loadProbe(dir, other)).toThrow(/was trained on another model/);
    [p, q, model, other].forEach((x) => x.dispose());
  });
});

describe('probe data from JSONL', () => {
  it('token level leaves unlabelled the positions whose prefix occurs with both labels', async () => {
    const { probeExamples } = await import('../../src/probes/recipe.ts');
    const { createTokenizer } = await import('../../src/models/tokenizer.ts');
    const { writeFileSync } = await import('node:fs');
    const file = `${tempDir()}/p.jsonl`;
    writeFileSync(file, ['{"prompt":"Q","completion":" ab","label":1}', '{"prompt":"Q","completion":" x","label":0}'].join('\n'));
    const ex = probeExamples(file, createTokenizer('byte'), 'token');
    // " " after "Q" is shared by both labels: unlabelled; "a", "b", "x" are not.
    expect(ex.map((e) => e.positions)).toEqual([[2, 3], [2]]);
    expect(probeExamples(file, createTokenizer('byte'), 'sequence')[0]).toEqual({ ids: [81, 32, 97, 98], label: 1 });
  });
});
