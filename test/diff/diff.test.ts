import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkComparable, diffModels, diffReport, lensDirections, parsePositions } from '../../src/diff/index.ts';
import { BonsaiError } from '../../src/errors.ts';
import { loadDirections, saveDirections } from '../../src/gradients/directions-file.ts';
import { HookedTransformer, modelConfig } from '../../src/models/index.ts';
import { Probe, saveProbe } from '../../src/probes/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';
import { byteConfig as C, edited, loaded } from './helpers.ts';

beforeAll(useCpu);

const values = (seed = 4) => {
  const m = HookedTransformer.create(C, seed);
  const v = m.valuesSync();
  m.dispose();
  return v;
};
const rng = new Rng(9);
const sequences = Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => 97 + rng.int(6)));

/** A logistic probe on the last layer's residual, saved as trained on `fingerprint`. */
function savedProbe(dir: string, fingerprint: string): void {
  const r = new Rng(2);
  const d = C.dModel;
  const weights = { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.tensor1d(Array.from({ length: d }, () => r.normal())), b: tf.zeros([]) };
  const p = new Probe({ name: 'p', hook: 'blocks.1.hook_resid_post', level: 'sequence', kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.5, metrics: { auroc: 1, tpr_at_1fpr: 1, f1: 1, ece: 0, n: 1 }, fingerprint }, weights);
  saveProbe(dir, p);
  p.dispose();
}

describe('diffModels', () => {
  it('finds nothing between a model and itself: every change 0, no promoted or suppressed token, equal probe readings', () => {
    const v = values();
    const [a, b] = [loaded('a', v), loaded('b', v)];
    const dir = join(tempDir(), 'probe');
    savedProbe(dir, a.model.fingerprint());
    const examples = sequences.map((ids, i) => ({ ids, label: i % 2 }));
    const before = tf.memory().numTensors;
    const r = diffModels(a, b, { sequences, probes: [{ dir, examples }] });
    expect(tf.memory().numTensors).toBe(before);
    const rep = diffReport(r, a, b);
    expect(rep.a.fingerprint).toBe(rep.b.fingerprint);
    for (const x of [...rep.weights.tensors, ...rep.weights.heads, ...rep.weights.neurons]) expect(x.rel_change).toBe(0);
    expect(rep.lens).toHaveLength(C.nLayers);
    for (const l of rep.lens) expect([l.norm, l.promoted.length, l.suppressed.length]).toEqual([0, 0, 0]);
    expect(rep.probes[0]).toMatchObject({ name: 'p', trained_on: 'both', n: sequences.length });
    expect(rep.probes[0]!.auroc_a).toBe(rep.probes[0]!.auroc_b);
    expect(rep.probes[0]!.mean_a).toBe(rep.probes[0]!.mean_b);
    a.model.dispose();
    b.model.dispose();
  });

  it("reads a planted residual shift through B's unembedding as the token it points at, and saves it as directions", () => {
    const v = values();
    const target = 'Z'.charCodeAt(0);
    // b_out of the last MLP adds a constant to every position's residual: make it W_U's column for "Z" (÷ the final gain).
    const WU = v.get('unembed.W_U')!;
    const gain = v.get('ln_final.w')!;
    const shift = Float32Array.from({ length: C.dModel }, (_, d) => (3 * WU[d * C.vocabSize + target]!) / gain[d]!);
    const bv = edited(v, 'blocks.1.mlp.b_out', (w) => w.forEach((x, d) => (w[d] = x + shift[d]!)));
    const [a, b] = [loaded('a', v), loaded('b', bv)];
    const r = diffModels(a, b, { sequences, positions: [0, 3] });
    expect(r.lens[0]!.norm).toBe(0); // layer 0 is before the change
    expect(r.lens[1]!.promoted[0]).toMatchObject({ token: 'Z', id: target });
    expect(r.lens[1]!.norm).toBeCloseTo(Math.hypot(...shift), 4);
    expect(r.weights.tensors[0]!.path).toBe('blocks.1.mlp.b_out');
    const file = join(tempDir(), 'lens.json');
    saveDirections(file, lensDirections(r.lens[1]!));
    const d = loadDirections(file, 'activation');
    expect(d).toMatchObject({ hook: 'blocks.1.hook_resid_post', width: C.dModel });
    expect(Math.hypot(...d.vectors[0]!)).toBeCloseTo(1, 5);
    a.model.dispose();
    b.model.dispose();
  });

  it('reports a probe trained on A read on a changed B as trained on A, with both readings', () => {
    const v = values();
    const bv = edited(v, 'blocks.1.mlp.b_out', (w) => w.forEach((x, d) => (w[d] = x + (d % 2 ? 0.5 : -0.5))));
    const [a, b] = [loaded('a', v), loaded('b', bv)];
    const dir = join(tempDir(), 'probe');
    savedProbe(dir, a.model.fingerprint());
    const r = diffModels(a, b, { probes: [{ dir, examples: sequences.map((ids, i) => ({ ids, label: i % 2 })) }] });
    expect(r.probes[0]!.trained_on).toBe('a');
    expect(r.probes[0]!.mean_a).not.toBe(r.probes[0]!.mean_b);
    expect(r.lens).toEqual([]);
    a.model.dispose();
    b.model.dispose();
  });

  it('refuses models of another architecture or vocabulary, naming every differing field', () => {
    const other = modelConfig({ ...C, nLayers: 3, vocabSize: 300 });
    const call = () => checkComparable({ config: C, tokenizer: 'byte', path: 'runs/a' }, { config: other, tokenizer: 'gpt2', path: 'runs/b' });
    expect(call).toThrow(BonsaiError);
    expect(call).toThrow(/cannot diff runs\/a and runs\/b: they differ in vocabSize \(A 257, B 300\), nLayers \(A 2, B 3\), tokenizer \(A byte, B gpt2\)/);
    expect(() => checkComparable({ config: C, tokenizer: 'byte' }, { config: { ...C }, tokenizer: 'byte' })).not.toThrow();
  });
});

describe('parsePositions', () => {
  it('reads lists and ranges, and names the flag for a bad entry', () => {
    expect(parsePositions('0-2,4')).toEqual([0, 1, 2, 4]);
    expect(() => parsePositions('3-1')).toThrow(/--positions: range 3-1 runs backwards/);
    expect(() => parsePositions('x')).toThrow(/--positions: "x" is not a position/);
  });
});
