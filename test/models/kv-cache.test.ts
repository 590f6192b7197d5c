import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { createModel, generate, type CausalLM, type LMConfig } from '../../src/models/index.ts';
import { decoderConfigFromHf, hfConfigForRecipe } from '../../src/models/families/config.ts';
import { KVCache } from '../../src/models/kv-cache.ts';
import { Probe, probeIntervention } from '../../src/probes/index.ts';
import { rollout } from '../../src/trainer/rollout.ts';
import { modelConfig } from '../../src/models/index.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const gpt2: LMConfig = modelConfig({ vocabSize: 29, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 24, tiedEmbeddings: false });
const recipe = { vocab_size: 29, d_model: 16, n_layers: 2, d_mlp: 24, n_ctx: 24, tied_embeddings: false, layer_norm_eps: 1e-5, init_std: 0.2 };
/** Llama-family: GQA (4 query / 2 key-value heads) and llama3 RoPE scaling. */
const llama: LMConfig = decoderConfigFromHf(
  { ...hfConfigForRecipe({ ...recipe, family: 'llama', n_heads: 4, n_kv_heads: 2 }), rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } },
  'test llama',
);
/** Pythia (GPT-NeoX): partial rotary (a quarter of each head) and the parallel residual. */
const pythia: LMConfig = decoderConfigFromHf(hfConfigForRecipe({ ...recipe, family: 'gpt_neox', n_heads: 2, n_kv_heads: 2, rotary_pct: 0.25 }), 'test pythia');

/** Mistral: a 3-token sliding window on every layer (the rows below run past it). */
const mistral: LMConfig = decoderConfigFromHf(hfConfigForRecipe({ ...recipe, family: 'mistral', n_heads: 4, n_kv_heads: 2, sliding_window: 3 }), 'test mistral');
/** Gemma 3: a local layer (3-token window, its own RoPE base) and a global one, q/k norm, soft-capped scores and logits. */
const gemma3: LMConfig = decoderConfigFromHf(
  { ...hfConfigForRecipe({ ...recipe, family: 'gemma3', n_heads: 4, n_kv_heads: 2, sliding_window: 3 }), layer_types: ['sliding_attention', 'full_attention'], attn_logit_softcapping: 2, final_logit_softcapping: 3 },
  'test gemma3',
);

const prompts = [[1, 2, 3, 4, 5], [7], [4, 9, 4], [11, 12, 13, 14, 15, 16, 17]];

describe.each([
  ['gpt2', gpt2],
  ['llama (GQA, llama3 RoPE scaling)', llama],
  ['pythia (partial rotary, parallel residual)', pythia],
  ['mistral (sliding window)', mistral],
  ['gemma3 (local and global layers, soft-capping)', gemma3],
])('KV cache: %s', (_name, config) => {
  const model = (): CausalLM => createModel(config, 3);

  it('prefill + one token per step gives the full forward logits, rows of different lengths batched', () => {
    const m = model();
    const seqs = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 1, 4, 1]];
    const full = seqs.map((s) => tf.tidy(() => m.forward(tf.tensor2d([s], undefined, 'int32')).logits.arraySync()[0]!));
    const kv = new KVCache(2, config.nLayers, config.nCtx);
    // Prefill the first 3 tokens of each row, then feed the rest one token per step (row 1 runs out first).
    const got: number[][][] = [[], []];
    const feed = (ids: number[][], lens: number[]) => {
      const { logits, cache } = m.forward(tf.tensor2d(ids, undefined, 'int32'), { kv, kvLengths: lens });
      const a = logits.arraySync();
      logits.dispose();
      cache.dispose();
      lens.forEach((n, r) => got[r]!.push(...a[r]!.slice(0, n)));
    };
    feed([seqs[0]!.slice(0, 3), seqs[1]!.slice(0, 3)], [3, 3]);
    for (let t = 3; t < 9; t++) feed([[seqs[0]![t]!], [seqs[1]![t] ?? 0]], [1, t < 4 ? 1 : 0]);
    kv.dispose();
    seqs.forEach((s, r) => {
      expect(got[r]).toHaveLength(s.length);
      got[r]!.forEach((row, t) => row.forEach((x, v) => expect(x).toBeCloseTo(full[r]![t]![v]!, 4)));
    });
    m.dispose();
  });

  it('greedy and seeded sampled output equal the uncached path; no tensor leaks', () => {
    const m = model();
    for (const temperature of [0, 1]) {
      const opts = { maxNewTokens: 12, temperature, rng: 7 };
      const cached = generate(m, prompts, opts);
      const before = tf.memory().numTensors;
      const again = generate(m, prompts, opts);
      expect(tf.memory().numTensors).toBe(before);
      expect(again.tokens).toEqual(cached.tokens);
      expect(cached.tokens).toEqual(generate(m, prompts, { ...opts, kvCache: false }).tokens);
    }
    m.dispose();
  });

  it('rollouts (and so their log-probs) equal the uncached path, with stop tokens', () => {
    const m = model();
    const tok = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0) % 29), decode: (ids: number[]) => ids.join(','), eosId: 0 } as never;
    const items = [{ prompt: 'abcde' }, { prompt: 'xy' }];
    const o = { G: 3, maxNewTokens: 10, temperature: 1, stopTokens: [5], rng: 3 };
    const a = rollout(m, tok, items, o).batch;
    const b = rollout(m, tok, items, { ...o, kvCache: false }).batch;
    expect(a.ids).toEqual(b.ids);
    expect(a.mask).toEqual(b.mask);
    const lp = (ids: Int32Array, R: number, T: number) => tf.tidy(() => tf.logSoftmax(m.forward(tf.tensor2d(ids, [R, T], 'int32')).logits).arraySync());
    expect(lp(a.ids, a.R, a.T)).toEqual(lp(b.ids, b.R, b.T));
    m.dispose();
  });

  it('the probe intervention scores from the frozen cache exactly as from full forwards', () => {
    const m = model();
    const frozen = m.frozenCopy();
    const d = config.dModel;
    const hook = 'blocks.1.hook_resid_post';
    const probe = new Probe(
      { name: 'rand', hook, level: 'token', kind: { kind: 'logistic', l2: 0 }, d, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: frozen.fingerprint() },
      { mu: tf.zeros([d]), sigma: tf.ones([d]), w: tf.randomNormal([d], 0, 1, 'float32', 5), b: tf.scalar(0) },
    );
    const run = (cache: boolean) => {
      const iv = probeIntervention({ frozen, probe, tokens: [20, 21], maxPerSequence: 2, cache });
      const g = generate(m, prompts, { maxNewTokens: 10, temperature: 0, insert: iv.insert, kvCache: cache });
      return { g, count: iv.state.count };
    };
    const cached = run(true);
    const before = tf.memory().numTensors;
    const again = run(true);
    expect(tf.memory().numTensors).toBe(before);
    const plain = run(false);
    expect(cached.count).toBeGreaterThan(0);
    expect(again).toEqual(cached);
    expect(cached).toEqual(plain);
    m.dispose();
    frozen.dispose();
  });
});

describe('KV cache: attention over the cache per key/value head', () => {
  it('attn.hook_pattern under the cache is [B, H, Tq, S] and equals the full forward’s pattern on the real slots', () => {
    const m = createModel(llama, 4); // 4 query heads over 2 key/value heads
    const hook = 'blocks.1.attn.hook_pattern';
    const seqs = [[1, 2, 3, 4, 5, 6], [3, 1, 4, 1, 5, 9]];
    const kv = new KVCache(2, llama.nLayers, llama.nCtx);
    // Prefill 5 tokens of row 0 and 3 of row 1 (two padding slots), then one token each.
    m.forward(tf.tensor2d([seqs[0]!.slice(0, 5), [...seqs[1]!.slice(0, 3), 0, 0]], undefined, 'int32'), { kv, kvLengths: [5, 3] }).logits.dispose();
    const step = m.forward(tf.tensor2d([[seqs[0]![5]!], [seqs[1]![3]!]], undefined, 'int32'), { kv, kvLengths: [1, 1], cache: hook });
    step.logits.dispose();
    const pattern = step.cache.get(hook);
    expect(pattern.shape).toEqual([2, 4, 1, 6]);
    const got = pattern.arraySync() as number[][][][];
    step.cache.dispose();
    kv.dispose();
    // Full forwards over each row's 6 and 4 real tokens: the new query's row of the pattern.
    const full = [seqs[0]!, seqs[1]!.slice(0, 4)].map((s) => {
      const r = m.forward(tf.tensor2d([s], undefined, 'int32'), { cache: hook });
      r.logits.dispose();
      const a = (r.cache.get(hook).arraySync() as number[][][][])[0]!;
      r.cache.dispose();
      return a.map((h) => h[s.length - 1]!); // [H, T]
    });
    const slotsOf = [[0, 1, 2, 3, 4, 5], [0, 1, 2, 5]]; // row 1's slots 3 and 4 hold its prefill padding
    for (let r = 0; r < 2; r++) {
      for (let h = 0; h < 4; h++) {
        const row = got[r]![h]![0]!;
        slotsOf[r]!.forEach((s, t) => expect(row[s]).toBeCloseTo(full[r]![h]![t]!, 5));
        expect(row.filter((_, s) => !slotsOf[r]!.includes(s)).every((p) => p === 0)).toBe(true);
      }
    }
    m.dispose();
  });
});

describe('KV cache on wasm (grouped products, tied head without a transposed embedding)', () => {
  beforeAll(async () => {
    await initBackend('wasm', { wasmThreads: 1 });
  });
  afterAll(useCpu);
  const tiedLlama: LMConfig = decoderConfigFromHf({ ...hfConfigForRecipe({ ...recipe, d_model: 24, family: 'llama', n_heads: 6, n_kv_heads: 2, tied_embeddings: true }) }, 'test tied llama');

  it.each([
    ['gpt2', { ...gpt2, tiedEmbeddings: true }],
    ['llama (GQA 6/2, tied)', tiedLlama],
  ])('%s: decode steps give the full forward logits; greedy output equals the uncached path; no leaks', (_name, config) => {
    expect(tf.getBackend()).toBe('wasm');
    const m = createModel(config as LMConfig, 3);
    const seq = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const full = tf.tidy(() => m.forward(tf.tensor2d([seq, seq], undefined, 'int32')).logits.arraySync()[0]!);
    const kv = new KVCache(2, config.nLayers, config.nCtx);
    const got: number[][] = [];
    const h0 = m.forwardHidden(tf.tensor2d([seq.slice(0, 4), seq.slice(0, 4)], undefined, 'int32'), { kv });
    h0.hidden.dispose();
    for (let t = 4; t < 9; t++) {
      const { hidden } = m.forwardHidden(tf.tensor2d([[seq[t]!], [seq[t]!]], undefined, 'int32'), { kv });
      const logits = m.decodeLogits(tf.reshape(hidden, [2, -1]) as tf.Tensor2D);
      got.push((logits.arraySync() as number[][])[0]!);
      tf.dispose([hidden, logits]);
    }
    kv.dispose();
    got.forEach((row, j) => row.forEach((x, v) => expect(x).toBeCloseTo(full[4 + j]![v]!, 4)));
    const opts = { maxNewTokens: 10, temperature: 0 };
    const cached = generate(m, prompts, opts);
    const before = tf.memory().numTensors;
    expect(generate(m, prompts, opts).tokens).toEqual(cached.tokens);
    expect(tf.memory().numTensors).toBe(before);
    expect(cached.tokens).toEqual(generate(m, prompts, { ...opts, kvCache: false }).tokens);
    m.dispose();
  });
});
