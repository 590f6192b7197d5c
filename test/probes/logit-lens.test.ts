import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureFeatures, fitProbe, loadProbe, outOfFoldScores, saveProbe, type ProbeExample } from '../../src/probes/index.ts';
import { trainRecipeProbe } from '../../src/probes/recipe.ts';
import { LogitLens } from '../../src/probes/logit-lens.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { modelConfig } from '../../src/models/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { tempDir } from '../helpers/recipes.ts';
import { ids2d, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const HOOK = 'ln_final.hook_normalized';

describe('logit-lens probe features', () => {
  it("are the frozen model's own next-token log-probabilities at the read positions", () => {
    const m = tinyModel(3).frozenCopy();
    const lens = new LogitLens(m);
    const ids = ids2d([[1, 2, 3, 4], [4, 3, 2, 1]]);
    const before = tf.memory().numTensors;
    const { logits, cache } = m.forward(ids, { cache: HOOK });
    const got = tf.tidy(() => lens.encode(cache.get(HOOK)).arraySync() as number[][][]);
    const want = tf.tidy(() => tf.logSoftmax(logits).arraySync() as number[][][]);
    got.forEach((r, b) => r.forEach((v, t) => v.forEach((x, k) => expect(x).toBeCloseTo(want[b]![t]![k]!, 4))));
    tf.dispose([logits]);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    [ids, m].forEach((x) => x.dispose());
  });

  it('a probe on them trains, saves without the head, and loads with the model it is loaded against; clones share the lens', () => {
    const m = tinyModel(3).frozenCopy();
    const lens = new LogitLens(m);
    const rng = new Rng(4);
    const ex: ProbeExample[] = Array.from({ length: 80 }, () => {
      const ids = Array.from({ length: 5 }, () => 1 + rng.int(20));
      return { ids, label: ids[4]! > 10 ? 1 : 0 }; // the last token: visible in the next-token distribution
    });
    const f = captureFeatures(m, HOOK, 'sequence', ex, 32, (a) => lens.encode(a));
    expect(f.d).toBe(m.config.vocabSize);
    const p = fitProbe(f, { name: 'lens', hook: HOOK, level: 'sequence', kind: { kind: 'logistic', l2: 1e-3 }, fingerprint: m.fingerprint(), seed: 0 }).withLens(lens);
    expect(p.meta.features).toBe('logit_lens');
    expect(p.inputWidth).toBe(m.config.dModel);
    const raw = captureFeatures(m, HOOK, 'sequence', ex);
    const dir = tempDir();
    saveProbe(dir, p);
    const q = loadProbe(dir, m);
    const c = q.clone();
    const before = tf.memory().numTensors;
    expect(Array.from(q.scoreRows(raw.X, raw.n))).toEqual(Array.from(p.scoreRows(raw.X, raw.n)));
    c.dispose();
    expect(Array.from(q.scoreRows(raw.X, raw.n))).toEqual(Array.from(p.scoreRows(raw.X, raw.n))); // a clone's dispose leaves the original whole
    expect(tf.memory().numTensors).toBe(before - Object.keys(c.weights).length);
    [p, q, m].forEach((x) => x.dispose());
  });

  it('a recipe probe with features: logit_lens trains there; another hook is refused, naming the one it reads', async () => {
    const tok = createTokenizer('byte');
    const m = tinyModel(5, modelConfig({ vocabSize: tok.vocabSize, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 16, tiedEmbeddings: false })).frozenCopy();
    const dir = tempDir();
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((c, i) => JSON.stringify({ prompt: `Q ${c}`, completion: ':', label: i % 2 })).join('\n'));
    const spec = { name: 'e', hook: HOOK, level: 'sequence' as const, kind: { kind: 'logistic' as const, l2: 1e-3 }, features: 'logit_lens' as const, train: { data, held_out: 0.25, max_epochs: 5, patience: 5, seed: 0 } };
    const p = await trainRecipeProbe(spec, m, tok);
    expect([p.meta.features, p.meta.d, p.lens?.model]).toEqual(['logit_lens', tok.vocabSize, m]);
    p.dispose();
    await expect(trainRecipeProbe({ ...spec, hook: 'blocks.1.hook_resid_post' }, m, tok)).rejects.toThrow(/features: logit_lens reads ln_final\.hook_normalized .*not blocks\.1\.hook_resid_post/);
    m.dispose();
  });
});

describe('out-of-fold scores', () => {
  it('score each selected row with a probe refit without its fold', () => {
    const m = tinyModel(1).frozenCopy();
    const rng = new Rng(6);
    const ex: ProbeExample[] = Array.from({ length: 40 }, () => {
      const ids = Array.from({ length: 4 }, () => 6 + rng.int(17));
      const label = rng.next() < 0.5 ? 1 : 0;
      if (label) ids[rng.int(4)] = 5;
      return { ids, label, span: [0, 4] as [number, number] };
    });
    const f = captureFeatures(m, 'hook_embed', 'sequence', ex);
    const o = { name: 'p', hook: 'hook_embed', level: 'sequence' as const, kind: { kind: 'logistic' as const, l2: 1e-3 }, fingerprint: 'x', seed: 0 };
    const neg = Array.from({ length: f.n }, (_, i) => i).filter((i) => f.y[i] === 0);
    const before = tf.memory().numTensors;
    const s = outOfFoldScores(f, o, (i) => f.y[i] === 0, 2);
    expect(tf.memory().numTensors).toBe(before);
    expect(s).toHaveLength(neg.length);
    // Fold 0 holds the 1st, 3rd, … negative: its scores come from a probe fit on every other row.
    const keep = Array.from({ length: f.n }, (_, i) => i).filter((i) => !neg.filter((_, k) => k % 2 === 0).includes(i));
    const sub = { X: Float32Array.from(keep.flatMap((i) => Array.from(f.X.subarray(i * f.d, (i + 1) * f.d)))), y: Float32Array.from(keep, (i) => f.y[i]!), n: keep.length, d: f.d };
    const p0 = fitProbe(sub, o);
    const r0 = neg[0]!;
    expect(s[0]).toBeCloseTo(p0.scoreRows(f.X.slice(r0 * f.d, (r0 + 1) * f.d), 1)[0]!, 6);
    p0.dispose();
    expect(() => outOfFoldScores(f, o, () => false, 4)).toThrow(/4-fold scores need at least 4 rows to score and 2 folds, got 0 rows/);
    m.dispose();
  });
});
