/**
 * Every tool on each family added for real checkpoints (Gemma 2, Gemma 3, OLMo 2): each run starts
 * from the family's seeded Hugging Face fixture (`model.init.hf`, its own tokenizer.json), so
 * the real layout goes through SFT with freezing (glob, head, neuron) and an ablation, LoRA
 * (PEFT names out), RL with a probe reward read on the frozen copy, the diff of the trained
 * model against its base, and the K-FAC edit written back in the family's Hugging Face layout.
 * Tiny on purpose: two steps each.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffModels, loadModelAt } from '../../src/diff/index.ts';
import { runEdit } from '../../src/gradients/kfac-job.ts';
import { saveDirections } from '../../src/gradients/directions-file.ts';
import { readHfCheckpoint } from '../../src/models/families/load.ts';
import { modelFromValues } from '../../src/models/registry.ts';
import { Probe } from '../../src/probes/probe.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { parseEditRecipe, parseRecipe } from '../../src/recipe/index.ts';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { train } from '../../src/trainer/index.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { tempDir, writeTinyCorpus } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const FAMILIES = ['gemma2', 'gemma3', 'olmo2'];

/** The fixture's model dims, read from its checkpoint. */
const dimsOf = (hf: string) => readHfCheckpoint(hf).config;

/** A recipe on the fixture: `trainer` and `extra` sections as YAML text. */
function recipe(dir: string, hf: string, trainer: string, extra = ''): string {
  return `
run: { name: tools, seed: 1, out_dir: ${join(dir, 'out')} }
backend: cpu
model: { init: { hf: ${hf} } }
data: { train: { format: text, path: ${writeTinyCorpus(dir)} }, seq_len: 16, eval_fraction: 0.1 }
trainer: ${trainer}
checkpoint: { every: 0, keep: 1 }
tracking: { uri: none }
${extra}`;
}
const SFT = '{ kind: sft, steps: 2, batch_size: 2, optimizer: { kind: adamw, lr: 1.0e-2 }, eval: { every: 0, batches: 1 }, log_every: 1 }';

describe.each(FAMILIES)('%s through every tool', (name) => {
  const hf = join('test/fixtures/hf', name);

  it('SFT with freezing (glob, head, neuron) and an ablation; the diff against the base sees what moved and what held', async () => {
    const dir = tempDir();
    const D = dimsOf(hf).dModel;
    const directions = join(dir, 'dirs.json');
    saveDirections(directions, { format: 'bonsai-directions/1', kind: 'activation', hook: 'blocks.0.hook_resid_post', width: D, vectors: [Array.from({ length: D }, (_, i) => (i % 2 ? 1 : -1))] });
    const extra = `interventions: [ { kind: ablate, hook: blocks.0.hook_resid_post, directions: ${directions} } ]
freeze: [ "blocks.0.attn.W_V", { heads: "blocks.1.attn[1]" }, { neurons: "blocks.0.mlp[0,3]" } ]`;
    const lines: string[] = [];
    const tracker = new MemoryTracker();
    const r = await train(parseRecipe(recipe(dir, hf, SFT, extra), join(dir, 'r.yaml')), { onLog: (l) => lines.push(l), tracker });
    expect(r.step).toBe(2);
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
    expect(tracker.values('train/loss').every(Number.isFinite)).toBe(true);

    const [base, trained] = [loadModelAt(hf), loadModelAt(join(dir, 'out'))];
    try {
      const { weights } = diffModels(base, trained);
      const change = (path: string) => weights.tensors.find((t) => t.path === path)!.rel_change;
      expect(change('blocks.0.attn.W_V')).toBe(0);
      expect(change('blocks.0.attn.W_Q')).toBeGreaterThan(0);
      expect(change('blocks.1.mlp.W_gate')).toBeGreaterThan(0);
    } finally {
      base.model.dispose();
      trained.model.dispose();
    }
  });

  it('LoRA on every projection writes PEFT adapters under the family names', async () => {
    const dir = tempDir();
    const lora = 'lora: { r: 4, alpha: 8, targets: [blocks.*.attn.W_Q, blocks.*.attn.W_K, blocks.*.attn.W_V, blocks.*.attn.W_O, blocks.*.mlp.W_gate, blocks.*.mlp.W_in, blocks.*.mlp.W_out] }';
    const lines: string[] = [];
    const r = await train(parseRecipe(recipe(dir, hf, SFT, lora), join(dir, 'r.yaml')), { onLog: (l) => lines.push(l) });
    expect(r.step).toBe(2);
    const layers = dimsOf(hf).nLayers;
    expect(lines.some((l) => l.startsWith(`lora: ${7 * layers} adapters`)), lines.join('\n')).toBe(true);
    const adapter = join(dir, 'out', 'step-00000002', 'adapter_model.safetensors');
    expect(existsSync(adapter)).toBe(true);
    expect(Object.keys(readSafetensors(adapter).tensors)).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
  });

  it('RL with a probe reward read on the frozen copy', async () => {
    const dir = tempDir();
    const { config, values } = readHfCheckpoint(hf);
    const frozen = modelFromValues(config, values).frozenCopy();
    const D = config.dModel;
    const probe = new Probe(
      { name: 'p', hook: 'blocks.1.hook_resid_post', level: 'token', kind: { kind: 'logistic', l2: 0 }, d: D, threshold: 0.5, metrics: { auroc: NaN, tpr_at_1fpr: NaN, f1: NaN, ece: NaN, n: 0 }, fingerprint: frozen.fingerprint() },
      { mu: tf.zeros([D]), sigma: tf.ones([D]), w: tf.randomNormal([D], 0, 1, 'float32', 3), b: tf.scalar(0.1) },
    );
    saveProbe(join(dir, 'probe'), probe);
    [frozen, probe].forEach((x) => x.dispose());
    writeFileSync(join(dir, 'rl.jsonl'), ['the cat', 'the dog', 'a mat'].map((p) => JSON.stringify({ prompt: p, completion: ' sat' })).join('\n') + '\n');
    const rl = recipe(
      dir,
      hf,
      '{ kind: rl, steps: 2, batch_size: 2, group_size: 2, max_new_tokens: 3, optimizer: { kind: adamw, lr: 1.0e-2 }, log_every: 1 }',
      `probes: [ { name: p, hook: blocks.1.hook_resid_post, level: token, checkpoint: ${join(dir, 'probe')} } ]
rewards:
  - { name: probe, kind: probe, probe: p, aggregate: mean, sign: -1, weight: 1.0 }
  - { name: format, kind: regex, pattern: "^ [a-z]", weight: 1.0 }`,
    ).replace(/data: \{ train: [^\n]*/, `data: { train: { format: jsonl, path: ${join(dir, 'rl.jsonl')} } }`);
    const tracker = new MemoryTracker();
    const before = tf.memory().numTensors;
    const r = await train(parseRecipe(rl, join(dir, 'rl.yaml')), { tracker });
    expect(r.step).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(tracker.values('rewards/probe/mean').every(Number.isFinite)).toBe(true);
  });

  it('the K-FAC edit changes its targets only and writes the family’s Hugging Face layout back', () => {
    const dir = tempDir();
    const edit = parseEditRecipe(
      [
        'job: edit',
        `run: { name: e, out_dir: ${join(dir, 'out')} }`,
        'backend: cpu',
        `model: { init: { hf: ${hf} } }`,
        'edit:',
        '  kind: kfac',
        `  data: { format: text, path: ${writeTinyCorpus(dir)} }`,
        '  targets: [blocks.*.mlp.W_gate, blocks.*.mlp.W_in, blocks.*.mlp.W_out, blocks.1.attn.W_O]',
        '  rho: 0.5',
        '  tokens: 48',
        '  batch_size: 2',
        '  seq_len: 16',
      ].join('\n'),
      join(dir, 'edit.yaml'),
    );
    const result = runEdit(edit);
    expect(result.layout).toBe('hf');
    const [before, after] = [readHfCheckpoint(hf).values, readHfCheckpoint(result.output).values];
    const moved = [...before].filter(([p, v]) => after.get(p)!.some((x, i) => x !== v[i])).map(([p]) => p);
    expect(moved.sort()).toEqual(result.targets.map((t) => t.path).sort());
    expect(moved).toContain('blocks.1.attn.W_O');
  });
});
