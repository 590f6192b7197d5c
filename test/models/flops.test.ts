import { describe, expect, it } from 'vitest';
import { blockFlops, forwardFlops, probeHeadFlops, unembedFlops } from '../../src/models/flops.ts';
import { modelConfig } from '../../src/models/index.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';

describe('FLOPs from the shapes', () => {
  it('matches 2·T·(weights of every matrix product) + the attention products, counted from a real model\'s parameters', () => {
    const cfg = modelConfig({ vocabSize: 23, dModel: 16, nLayers: 3, nHeads: 2, nCtx: 12, dMlp: 40 });
    const m = HookedTransformer.create(cfg, 0);
    try {
      const matrices = [...m.params].filter(([p]) => /\.(W_Q|W_K|W_V|W_O|W_in|W_out)$/.test(p));
      expect(matrices).toHaveLength(6 * cfg.nLayers);
      const weights = matrices.reduce((a, [, v]) => a + v.size, 0);
      const unembed = m.params.get('embed.W_E')!.size; // tied: logits = x·W_Eᵀ
      for (const T of [1, 5, 12]) {
        const attention = cfg.nLayers * 2 * (2 * T * T * cfg.dModel); // Q·Kᵀ and A·V
        expect(forwardFlops(cfg, T)).toBe(2 * T * weights + attention + 2 * T * unembed);
        expect(forwardFlops(cfg, T, 1)).toBe(2 * T * weights + attention + 2 * unembed);
        expect(forwardFlops(cfg, T, 0)).toBe(cfg.nLayers * blockFlops(cfg, T));
      }
      expect(unembedFlops(cfg, 4)).toBe(2 * 4 * 16 * 23);
    } finally {
      m.dispose();
    }
  });

  it('probe heads: logistic 2·N·d, MLP 2·N·d·H + 2·N·H', () => {
    expect(probeHeadFlops({ kind: 'logistic', l2: 0 }, 64, 10)).toBe(1280);
    expect(probeHeadFlops({ kind: 'mlp', hidden: 8, l2: 0 }, 64, 10)).toBe(2 * 10 * 64 * 8 + 2 * 10 * 8);
  });
});
