import { beforeAll, describe, expect, it } from 'vitest';
import { weightDiff } from '../../src/diff/index.ts';
import { HookedTransformer } from '../../src/models/index.ts';
import { useCpu } from '../helpers/tiny.ts';
import { byteConfig as C, edited } from './helpers.ts';

beforeAll(useCpu);

const base = () => {
  const m = HookedTransformer.create(C, 4);
  const v = m.valuesSync();
  m.dispose();
  return v;
};

describe('weightDiff', () => {
  it('is all zeros between a model and itself', () => {
    const v = base();
    const d = weightDiff(C, v, v);
    expect(d.tensors).toHaveLength(v.size);
    expect(d.heads).toHaveLength(C.nLayers * C.nHeads);
    expect(d.neurons).toHaveLength(C.nLayers * C.dMlp);
    for (const x of [...d.tensors, ...d.heads, ...d.neurons]) expect([x.rel_change, x.abs_change]).toEqual([0, 0]);
  });

  it('puts a planted change in one head first among heads and its tensors', () => {
    const v = base();
    const dh = C.dModel / C.nHeads;
    // Head 1 of layer 1 owns rows dh..2dh of W_O [H·dh, D]: move only those, a little.
    const b = edited(v, 'blocks.1.attn.W_O', (w) => {
      for (let i = dh * C.dModel; i < 2 * dh * C.dModel; i++) w[i] = w[i]! * 1.3;
    });
    const d = weightDiff(C, v, b);
    expect(d.heads[0]).toMatchObject({ layer: 1, head: 1 });
    const rows = v.get('blocks.1.attn.W_O')!.subarray(dh * C.dModel, 2 * dh * C.dModel);
    expect(d.heads[0]!.abs_change).toBeCloseTo(0.3 * Math.hypot(...rows), 5);
    expect(d.heads[0]!.rel_change).toBeGreaterThan(0);
    expect(d.heads.slice(1).every((h) => h.rel_change === 0)).toBe(true);
    expect(d.tensors[0]!.path).toBe('blocks.1.attn.W_O');
    expect(d.neurons.every((n) => n.rel_change === 0)).toBe(true);
  });

  it('puts a planted change in one neuron first among neurons', () => {
    const v = base();
    const n = 37;
    // Neuron n is column n of W_in [D, M] and row n of W_out [M, D]: nudge one entry of each.
    const b1 = edited(v, 'blocks.0.mlp.W_in', (w) => (w[3 * C.dMlp + n] = w[3 * C.dMlp + n]! + 0.05));
    const b = edited(b1, 'blocks.0.mlp.W_out', (w) => (w[n * C.dModel + 5] = w[n * C.dModel + 5]! - 0.05));
    const d = weightDiff(C, v, b);
    expect(d.neurons[0]).toMatchObject({ layer: 0, neuron: n });
    expect(d.neurons[1]!.rel_change).toBe(0);
    expect(d.heads.every((h) => h.rel_change === 0)).toBe(true);
  });

  it('measures a bias that started at zero against nothing: 1 when it moved', () => {
    const v = base();
    const b = edited(v, 'blocks.0.attn.b_O', (w) => (w[0] = 0.1));
    const t = weightDiff(C, v, b).tensors.find((x) => x.path === 'blocks.0.attn.b_O')!;
    expect(t.rel_change).toBe(1);
    expect(t.abs_change).toBeCloseTo(0.1, 6);
  });
});
