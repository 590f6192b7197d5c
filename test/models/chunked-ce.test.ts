import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelConfig } from '../../src/models/index.ts';
import { computeGradients } from '../../src/trainer/seam.ts';
import { lmLoss, type LmBatch } from '../../src/trainer/loss.ts';
import { ceChunkRows } from '../../src/models/chunked-ce.ts';
import { variablesRead } from '../../src/backend/recompute.ts';
import { AdamW, createTrainStep } from '../../src/trainer/index.ts';
import { chunkedTokenLogprobs, tokenLogprobs } from '../../src/models/logprobs.ts';
import { familyConfigFromRecipe } from '../../src/models/families/config.ts';
import { randomBatch, tinyFamilyModel, tinyLlamaConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const tied = modelConfig({ vocabSize: 37, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 8, tiedEmbeddings: true });
const untied = modelConfig({ vocabSize: 37, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 8, tiedEmbeddings: false });

/** Loss and gradients by path, copied to JS. */
function lossAndGrads(model: Parameters<typeof lmLoss>[0], batch: LmBatch, opts: Parameters<typeof lmLoss>[2]) {
  const { loss, grads } = computeGradients(model, () => lmLoss(model, batch, opts));
  const out = new Map<string, Float32Array>();
  for (const [k, g] of Object.entries(grads)) out.set(k, g.dataSync() as Float32Array);
  tf.dispose(Object.values(grads));
  return { loss, grads: out };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 1e-6;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d / scale;
}

describe('chunked cross-entropy', () => {
  for (const [name, config] of [['tied', tied], ['untied', untied]] as const) {
    it(`gives today's loss and gradients in chunks that do not divide B·T (${name} unembedding)`, () => {
      const m = tinyModel(3, config);
      const batch = randomBatch(5, 3, 8, 37);
      batch.weights[4] = 0; // a masked target stays masked in every chunk
      const whole = lossAndGrads(m, batch, { ceChunk: 1_000_000 });
      for (const chunk of [1, 5, 7, 23]) {
        const part = lossAndGrads(m, batch, { ceChunk: chunk });
        expect(part.loss).toBeCloseTo(whole.loss, 5);
        expect([...part.grads.keys()].sort()).toEqual([...whole.grads.keys()].sort());
        for (const [k, g] of whole.grads) expect(maxRelDiff(g, part.grads.get(k)!), `${k} at chunk ${chunk}`).toBeLessThan(1e-5);
      }
      m.dispose();
    });
  }

  it('recompute: true gives the same loss and gradients, with chunks or without', () => {
    const m = tinyModel(7, untied);
    const batch = randomBatch(2, 2, 8, 37);
    const plain = lossAndGrads(m, batch, { ceChunk: 'auto' });
    for (const ceChunk of ['auto', 3] as const) {
      const re = lossAndGrads(m, batch, { ceChunk, forward: { recompute: true } });
      expect(re.loss).toBeCloseTo(plain.loss, 5);
      for (const [k, g] of plain.grads) expect(maxRelDiff(g, re.grads.get(k)!), k).toBeLessThan(1e-5);
    }
    m.dispose();
  });

  // Families rebuild their RoPE tables and mask inside the recomputed block: GQA + SwiGLU
  // (Llama), and parallel residual + partial rotary + LayerNorm biases (GPT-NeoX).
  const neox = familyConfigFromRecipe({
    family: 'gpt_neox', vocab_size: 23, d_model: 16, n_layers: 2, n_heads: 4, d_mlp: 32, n_ctx: 8, rotary_pct: 0.5, tied_embeddings: false, layer_norm_eps: 1e-5, init_std: 0.02,
  });
  for (const [name, config] of [['llama', tinyLlamaConfig], ['gpt_neox', neox]] as const) {
    it(`recompute: true gives the same loss and gradients on a ${name} model, with the tensor count flat`, () => {
      const m = tinyFamilyModel(5, config);
      const batch = randomBatch(4, 2, 8, 23);
      const plain = lossAndGrads(m, batch, {});
      const before = tf.memory().numTensors;
      const re = lossAndGrads(m, batch, { ceChunk: 3, forward: { recompute: true } });
      expect(tf.memory().numTensors).toBe(before);
      expect(re.loss).toBeCloseTo(plain.loss, 5);
      expect([...re.grads.keys()].sort()).toEqual([...plain.grads.keys()].sort());
      for (const [k, g] of plain.grads) expect(maxRelDiff(g, re.grads.get(k)!), k).toBeLessThan(1e-5);
      m.dispose();
    });
  }

  it('holds the tensor count flat across chunked, recomputed train steps', () => {
    const m = tinyModel(2, untied);
    const step = createTrainStep({ model: m, optimizer: new AdamW({ lr: 1e-2 }), transforms: [], ceChunk: 5, forward: { recompute: true } });
    const batch = randomBatch(0, 4, 8, 37);
    const first = step(batch).loss;
    const counts: number[] = [];
    let last = first;
    for (let i = 0; i < 12; i++) {
      last = step(batch).loss;
      counts.push(tf.memory().numTensors);
    }
    expect(last).toBeLessThan(first);
    expect(new Set(counts).size).toBe(1);
    m.dispose();
  });

  it('never holds all chunks\' logits: peak bytes of a step stay near one chunk\'s, not B·T·V', async () => {
    const V = 4096;
    const config = modelConfig({ vocabSize: V, dModel: 16, nLayers: 1, nHeads: 2, nCtx: 32, tiedEmbeddings: false });
    const m = tinyModel(1, config);
    const batch = randomBatch(1, 4, 32, V); // 128 tokens: logits 128·4096·4 B = 2 MiB
    const peak = async (ceChunk: number) => {
      const before = tf.memory().numBytes;
      // tf.profile records the live bytes after every kernel, nested ones included.
      const prof = await tf.profile(() => {
        const r = computeGradients(m, () => lmLoss(m, batch, { ceChunk }));
        tf.dispose(Object.values(r.grads));
      });
      return prof.peakBytes - before;
    };
    const whole = await peak(128);
    const chunked = await peak(16);
    const logitsBytes = 128 * V * 4;
    // Whole: the logits and their softmax and one-hot (kept for the backward) are alive at once.
    expect(whole).toBeGreaterThan(2 * logitsBytes);
    // Chunks of 32 rows: an eighth of those beside the model's activations (measured at 4×64 tokens, V 4096: 27.2 MB vs 6.0 MB).
    expect(chunked).toBeLessThan(whole / 3);
    expect(chunked).toBeLessThan(2 * logitsBytes);
    m.dispose();
  });

  it('auto chunk rows keep a chunk\'s logits at 2^24 floats', () => {
    expect(ceChunkRows(50257)).toBe(333);
    expect(ceChunkRows(256)).toBe(65536);
    expect(ceChunkRows(50257, 64)).toBe(64);
  });
});

describe('recompute: true', () => {
  it('keeps one block\'s activations instead of all: a lower peak on a deep, narrow model', async () => {
    const config = modelConfig({ vocabSize: 16, dModel: 32, nLayers: 6, nHeads: 4, nCtx: 32, tiedEmbeddings: false });
    const m = tinyModel(1, config);
    const batch = randomBatch(1, 4, 32, 16);
    const peak = async (recompute: boolean) => {
      const before = tf.memory().numBytes;
      const prof = await tf.profile(() => {
        const r = computeGradients(m, () => lmLoss(m, batch, { forward: { recompute } }));
        tf.dispose(Object.values(r.grads));
      });
      return prof.peakBytes - before;
    };
    const plain = await peak(false);
    const re = await peak(true);
    expect(re).toBeLessThan(plain * 0.6);
    m.dispose();
  });

  it('finding the variables a recomputed function reads leaves an outer tape as it was (nothing saved until its backward)', () => {
    const w = tf.variable(tf.randomNormal([8, 8], 0, 1, 'float32', 1));
    const x = tf.randomNormal([2, 8], 0, 1, 'float32', 2);
    const { value, grads } = tf.variableGrads(() => {
      const tape = tf.engine().state.activeTape!;
      const nodes = tape.length;
      const tensors = tf.memory().numTensors;
      // The probe's forward and backward save tensors (here w + w, its product, their gradients).
      const found = variablesRead((h) => tf.matMul(h, tf.add(w, w)), [1, 8]);
      expect(found).toEqual([w]);
      expect(tf.engine().state.activeTape).toBe(tape);
      expect(tape.length).toBe(nodes);
      expect(tf.memory().numTensors).toBe(tensors);
      return tf.sum(tf.matMul(x, w));
    }, [w]);
    // The outer gradient is still right: d sum(x·w) / dw = xᵀ·1.
    const want = tf.matMul(x, tf.ones([2, 8]), true, false);
    expect(Math.max(...tf.abs(tf.sub(grads[w.name]!, want)).dataSync())).toBeLessThan(1e-5);
    tf.dispose([w, x, value, want, ...Object.values(grads)]);
  });
});

describe('chunked RL log-probs', () => {
  it('equal tokenLogprobs of the full logits, values and gradients', () => {
    const m = tinyModel(9, tied);
    const ids = tf.tensor2d([[1, 5, 9, 2, 30, 7], [3, 3, 8, 1, 0, 36], [11, 4, 4, 20, 6, 2]], undefined, 'int32');
    const weights = tf.tensor2d([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [1, 0, 1, 0, 1]]);
    const objective = (lp: () => tf.Tensor2D) => () => tf.sum(tf.mul(lp(), weights)) as tf.Scalar;
    const full = computeGradients(m, objective(() => tokenLogprobs(m.forward(ids).logits, ids)));
    const part = computeGradients(m, objective(() => chunkedTokenLogprobs(m, ids, { recompute: true }, 4)));
    expect(part.loss).toBeCloseTo(full.loss, 4);
    for (const k of Object.keys(full.grads)) {
      expect(maxRelDiff(full.grads[k]!.dataSync() as Float32Array, part.grads[k]!.dataSync() as Float32Array), k).toBeLessThan(1e-5);
    }
    tf.dispose([ids, weights, ...Object.values(full.grads), ...Object.values(part.grads)]);
    m.dispose();
  });
});
