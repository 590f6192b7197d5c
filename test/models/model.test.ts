import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paramSpecs, hookNames, type CausalLM } from '../../src/models/index.ts';
import { modelFromValues } from '../../src/models/registry.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/models/checkpoint.ts';
import { ids2d, tinyFamilyModel, tinyLlamaConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

/** The contract of model.ts, run on GPT-2 and on a from-scratch Llama with grouped-query attention. */
describe.each([
  ['gpt2', () => tinyModel(3)],
  ['llama (GQA)', () => tinyFamilyModel(3)],
])('CausalLM contract: %s', (_name, make: () => CausalLM) => {
  let model: CausalLM;
  beforeAll(() => {
    model = make();
  });
  afterAll(() => model.dispose());

  it('has the parameters and hook points layout.ts lists, with their shapes', () => {
    const specs = paramSpecs(model.config);
    expect([...model.params.keys()]).toEqual(specs.map((s) => s.path));
    for (const s of specs) expect(model.params.get(s.path)!.shape).toEqual(s.shape);
    expect(model.hookPoints()).toEqual(hookNames(model.config));
    expect(model.config.dHead * model.config.nHeads).toBe(model.params.get('blocks.0.attn.W_Q')!.shape[1]);
    expect(model.config.dHead * model.config.nKvHeads).toBe(model.params.get('blocks.0.attn.W_K')!.shape[1]);
  });

  it('forward(ids).logits equals unembed(forwardHidden(ids).hidden), and hidden is ln_final.hook_normalized', () => {
    const ids = ids2d([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
    const { logits, cache } = model.forward(ids, { cache: 'ln_final.hook_normalized' });
    const { hidden, cache: c2 } = model.forwardHidden(ids);
    const flat = tf.reshape(hidden, [10, model.config.dModel]) as tf.Tensor2D;
    const viaHidden = model.unembed(flat);
    expect(Array.from(viaHidden.dataSync())).toEqual(Array.from(logits.dataSync()));
    expect(Array.from(hidden.dataSync())).toEqual(Array.from(cache.get('ln_final.hook_normalized').dataSync()));
    tf.dispose([ids, logits, hidden, flat, viaHidden]);
    cache.dispose();
    c2.dispose();
  });

  it('weightTransform replaces every parameter read; unset, the base model returns; valuesSync stays the base weights', () => {
    const ids = ids2d([[1, 2, 3]]);
    const before = tf.memory().numTensors;
    const base = model.forward(ids).logits;
    const seen = new Set<string>();
    model.weightTransform = (path, w) => {
      seen.add(path);
      return path === 'blocks.1.attn.W_O' ? tf.mul(w, 0) : w;
    };
    const edited = model.forward(ids).logits;
    const fingerprint = model.fingerprint();
    model.weightTransform = undefined;
    const again = model.forward(ids).logits;
    expect(seen).toEqual(new Set(model.params.keys()));
    expect(Array.from(edited.dataSync())).not.toEqual(Array.from(base.dataSync()));
    expect(Array.from(again.dataSync())).toEqual(Array.from(base.dataSync()));
    expect(fingerprint).toBe(model.fingerprint());
    tf.dispose([base, edited, again]);
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
  });

  it('is differentiable with respect to every parameter (GQA included)', () => {
    const ids = ids2d([[1, 2, 3, 4]]);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forward(ids).logits)) as tf.Scalar);
    expect(Object.keys(grads).length).toBe(model.params.size);
    for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([ids, value, ...Object.values(grads)]);
  });

  it('frozenCopy: same logits, never trainable, fingerprint of the weights; a checkpoint reloads bit-identically', () => {
    const frozen = model.frozenCopy();
    expect(frozen.frozen).toBe(true);
    expect([...frozen.params.values()].every((v) => !v.trainable)).toBe(true);
    expect(frozen.fingerprint()).toBe(model.fingerprint());
    expect(frozen.numParams()).toBe(model.numParams());
    const dir = mkdtempSync(join(tmpdir(), 'bonsai-model-'));
    try {
      saveCheckpoint(join(dir, 'ck'), { config: model.config, tokenizer: 'byte', weights: model.valuesSync() });
      const ck = loadCheckpoint(join(dir, 'ck'), { config: model.config });
      expect(ck.config).toEqual(model.config);
      const back = modelFromValues(ck.config, ck.weights);
      expect(back.fingerprint()).toBe(model.fingerprint());
      const ids = ids2d([[4, 5, 6, 7]]);
      const [a, b] = [frozen.forward(ids).logits, back.forward(ids).logits];
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([ids, a, b]);
      back.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      frozen.dispose();
    }
  });
});

describe('from-scratch family configs', () => {
  it('the same seed gives the same Llama weights; the config carries the family dims', () => {
    const [a, b] = [tinyFamilyModel(5), tinyFamilyModel(5)];
    expect(a.fingerprint()).toBe(b.fingerprint());
    expect(tinyLlamaConfig).toMatchObject({ family: 'llama', nHeads: 4, nKvHeads: 2, dHead: 4, norm: 'rms', mlp: { gated: true, act: 'silu' }, tiedEmbeddings: false });
    a.dispose();
    b.dispose();
  });
});
