/**
 * Every tool on a Llama-family model (issue 13 §7): a tiny Llama with grouped-query attention
 * (4 query heads, 2 key/value heads), SwiGLU and RoPE, trained from scratch
 * (`model.init.config.family: llama`) and loaded from a bonsai checkpoint. One SFT run
 * carries freezing (glob, head, neuron, attribution), an intervention and project_out; RL runs
 * a probe reward on the frozen copy, alone and with an ablation and project_out; the reward
 * server scores with the same probe.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import { familyConfigFromRecipe } from '../../src/models/families/config.ts';
import { createModel } from '../../src/models/registry.ts';
import { Probe } from '../../src/probes/probe.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { RewardScorer } from '../../src/server/scorer.ts';
import { encodeText } from '../../src/server/texts.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/index.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { bonsai } from '../helpers/cli.ts';
import { tempDir, tinyRecipe, writeTinyCorpus, writeTinyRecipe } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const LLAMA = '{ family: llama, d_model: 16, n_layers: 1, n_heads: 4, n_kv_heads: 2, d_mlp: 24, n_ctx: 16 }';

describe('a Llama-family model through every tool', () => {
  it('SFT from scratch with freezing (glob, head, neuron, attribution), an ablation and project_out; every frozen entry holds', async () => {
    const dir = tempDir();
    const corpus = writeTinyCorpus(dir);
    const directions = join(dir, 'dirs.json');
    saveDirections(directions, { format: 'bonsai-directions/1', kind: 'activation', hook: 'blocks.0.hook_resid_post', width: 16, vectors: [Array.from({ length: 16 }, (_, i) => (i < 8 ? 1 : -1))] });
    const extra = `interventions: [ { kind: ablate, hook: blocks.0.hook_resid_post, directions: ${directions} } ]
freeze:
  - "blocks.0.ln1.*"
  - { heads: "blocks.0.attn[1]" }
  - { neurons: "blocks.0.mlp[0,3]" }
  - { attribution: { data: { format: text, path: ${corpus} }, top_percent: 10, batches: 2 } }`;
    const lines: string[] = [];
    const tracker = new MemoryTracker();
    const recipe = tinyRecipe(dir, {
      steps: 3,
      extra,
      overrides: [`model.init.config=${LLAMA}`, `gradients=[ { kind: project_out, unwanted: { format: text, path: ${corpus} }, top_k: 2, batches: 2, every: 2, params: "blocks.*" }, { kind: clip, max_norm: 1.0 } ]`],
    });
    const r = await train(recipe, { onLog: (l) => lines.push(l), tracker });
    expect(r.step).toBe(3);
    const log = lines.join('\n');
    // Head 1 under GQA: its W_Q columns (4 of 16) and W_O rows; W_K/W_V are shared and stay trainable.
    expect(log).toMatch(/blocks\.0\.attn\.W_Q \d+\/256/);
    expect(log).toMatch(/blocks\.0\.mlp\.W_gate \d+\/384/);
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
    expect(tracker.values('gradients/project_out/dims')[0]).toBe(2);
    expect(Number.isFinite(r.finalLoss)).toBe(true);
  });
});

describe('RL with a probe reward on the frozen copy, and the reward server, on a Llama', () => {
  /** A Llama checkpoint, a probe "trained" on its frozen copy (random weights), and an RL recipe using both. */
  function writeRl(): string {
    const dir = tempDir('bonsai-llama-rl-');
    const config = familyConfigFromRecipe({ family: 'llama', vocab_size: 257, d_model: 16, n_layers: 1, n_heads: 4, n_kv_heads: 2, d_mlp: 24, n_ctx: 32, tied_embeddings: true, layer_norm_eps: 1e-5, init_std: 0.02 });
    const model = createModel(config, 7);
    saveCheckpoint(join(dir, 'ck'), { config: model.config, tokenizer: 'byte', weights: model.valuesSync() });
    const frozen = model.frozenCopy();
    const probe = new Probe(
      { name: 'p', hook: 'blocks.0.hook_resid_post', level: 'token', kind: { kind: 'logistic', l2: 0 }, d: 16, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: frozen.fingerprint() },
      { mu: tf.zeros([16]), sigma: tf.ones([16]), w: tf.randomNormal([16], 0, 1, 'float32', 3), b: tf.scalar(0.1) },
    );
    saveProbe(join(dir, 'probe'), probe);
    [model, frozen, probe].forEach((x) => x.dispose());
    writeFileSync(join(dir, 'rl.jsonl'), ['a:', 'b:', 'c:'].map((p) => JSON.stringify({ prompt: p, completion: ' x' })).join('\n') + '\n');
    const file = join(dir, 'rl.yaml');
    writeFileSync(file, `
run: { name: llama-rl, seed: 0, out_dir: ${join(dir, 'out')} }
backend: cpu
model: { tokenizer: byte, init: { checkpoint: ${join(dir, 'ck')} } }
data: { train: { format: jsonl, path: ${join(dir, 'rl.jsonl')} } }
trainer: { kind: rl, steps: 2, batch_size: 2, group_size: 2, max_new_tokens: 3, optimizer: { kind: adamw, lr: 1.0e-2 }, log_every: 1 }
probes: [ { name: p, hook: blocks.0.hook_resid_post, level: token, checkpoint: ${join(dir, 'probe')} } ]
rewards:
  - { name: probe, kind: probe, probe: p, aggregate: mean, sign: -1, weight: 1.0 }
  - { name: format, kind: regex, pattern: "^ [a-z]", weight: 1.0 }
freeze: [ { heads: "blocks.0.attn[0]" } ]
checkpoint: { every: 0, keep: 1 }
tracking: { uri: none }
`);
    return file;
  }

  it('trains with the probe reward read on the frozen copy, and serves the same reward', async () => {
    const file = writeRl();
    const tracker = new MemoryTracker();
    const r = await train(loadRecipe(file), { tracker });
    expect(r.step).toBe(2);
    const probeReward = tracker.values('rewards/probe/mean');
    expect(probeReward.length).toBe(2);
    expect(probeReward.every(Number.isFinite)).toBe(true);
    const scorer = await RewardScorer.fromRecipe(loadRecipe(file));
    try {
      const tok = createTokenizer('byte');
      const out = await scorer.score([encodeText(tok, { prompt: 'a:', completion: ' xyz' })]);
      expect(Number.isFinite(out[0]!.total)).toBe(true);
      expect(Number.isFinite(out[0]!.byName.probe!)).toBe(true);
    } finally {
      scorer.dispose();
    }
  });

  it('with an intervention and project_out: ablates a direction in the policy pass (losses change, first rollouts do not) and projects the gradients out of an unwanted subspace', async () => {
    const file = writeRl();
    const dir = tempDir();
    const corpus = writeTinyCorpus(dir);
    const directions = join(dir, 'dirs.json');
    saveDirections(directions, { format: 'bonsai-directions/1', kind: 'activation', hook: 'blocks.0.hook_resid_post', width: 16, vectors: [Array.from({ length: 16 }, (_, i) => (i < 8 ? 1 : -1))] });
    const plain = new MemoryTracker();
    await train(loadRecipe(file), { tracker: plain });
    const designed = new MemoryTracker();
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const r = await train(loadRecipe(file, { overrides: [
      `run.out_dir=${join(dir, 'designed')}`,
      `interventions=[ { kind: ablate, hook: blocks.0.hook_resid_post, directions: ${directions} } ]`,
      `gradients=[ { kind: project_out, unwanted: { format: text, path: ${corpus} }, top_k: 2, batches: 2, every: 2, params: "blocks.*" }, { kind: clip, max_norm: 1.0 } ]`,
    ] }), { tracker: designed, onLog: (l) => lines.push(l) });
    expect(r.step).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    // The same seed samples the same first rollouts (the intervention acts on the policy's
    // training pass, not on sampling); the loss of that pass is the ablated model's.
    expect(designed.values('rewards/total/mean')[0]).toEqual(plain.values('rewards/total/mean')[0]);
    expect(designed.values('train/loss')[0]).not.toBeCloseTo(plain.values('train/loss')[0]!, 6);
    expect(designed.values('gradients/project_out/dims')[0]).toBe(2);
    expect(designed.values('gradients/project_out/refreshed')).toEqual([1, 0]);
    expect(designed.values('gradients/project_out/cos').every(Number.isFinite)).toBe(true);
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
  });
});

describe('bonsai directions on a Llama checkpoint', () => {
  it('computes a mean-difference direction at a Llama hook (CLI, from a from-scratch Llama run)', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 2 });
    expect(bonsai(['train', recipe, '--set', 'backend=cpu', '--set', `model.init.config=${LLAMA}`]).code).toBe(0);
    writeFileSync(join(dir, 'pos.txt'), 'aaaa bbbb '.repeat(30));
    writeFileSync(join(dir, 'neg.txt'), '0123 4567 '.repeat(30));
    const out = join(dir, 'dir.json');
    const r = bonsai(['directions', '--checkpoint', join(dir, 'out'), '--hook', 'blocks.0.mlp.hook_post', '--backend', 'cpu', '--method', 'mean-diff', '--positive', join(dir, 'pos.txt'), '--negative', join(dir, 'neg.txt'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ kind: 'activation', hook: 'blocks.0.mlp.hook_post', width: 24 });
  });
});

describe('probes on a Llama checkpoint', () => {
  it('bonsai probe train and probe sweep run on the frozen copy of a two-layer Llama', () => {
    const dir = tempDir();
    const config = familyConfigFromRecipe({ family: 'llama', vocab_size: 257, d_model: 16, n_layers: 2, n_heads: 4, n_kv_heads: 2, d_mlp: 24, n_ctx: 64, tied_embeddings: true, layer_norm_eps: 1e-5, init_std: 0.02 });
    const model = createModel(config, 4);
    saveCheckpoint(join(dir, 'ck'), { config: model.config, tokenizer: 'byte', weights: model.valuesSync() });
    model.dispose();
    const recipe = join(dir, 'probe.yaml');
    writeFileSync(recipe, [
      `run: { name: t, seed: 0, out_dir: ${join(dir, 'out')} }`,
      'job: probe',
      'backend: cpu',
      `model: { tokenizer: byte, init: { checkpoint: ${join(dir, 'ck')} } }`,
      'probes:',
      '  - { name: halluc, hook: blocks.1.attn.hook_rot_k, level: token, kind: { kind: logistic, l2: 1.0e-3 },',
      `      train: { data: ${join(process.cwd(), 'data/hallucination/probe.jsonl')}, max_epochs: 2, seed: 0 } }`,
      'tracking: { uri: none }',
    ].join('\n'));
    const trained = bonsai(['probe', 'train', recipe]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/halluc\s+blocks\.1\.attn\.hook_rot_k\s+[\d.]+/);
    const swept = bonsai(['probe', 'sweep', recipe]);
    expect(swept.code, swept.stderr).toBe(0);
    expect(swept.stdout).toMatch(/blocks\.0\.attn\.hook_rot_k/);
    expect(swept.stdout).toMatch(/blocks\.1\.attn\.hook_rot_k/);
  });
});
