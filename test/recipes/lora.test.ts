import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportMergedCheckpoint } from '../../src/lora/export.ts';
import { readPeftAdapter } from '../../src/lora/peft.ts';
import { readHfCheckpoint } from '../../src/models/families/load.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { probeDir, trainRecipeProbe } from '../../src/probes/recipe.ts';
import { loadAnyRecipe, loadRecipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';
import { MemoryTracker } from '../helpers/metrics.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const small = ['backend=cpu', 'tracking.uri=none'];

describe('recipes/lora-hallucination.yaml, tiny', () => {
  it('RL-trains adapters against the frozen-base probe: base bit-identical, PEFT files in the checkpoint, --resume, merged export', async () => {
    const dir = tempDir();
    const a = loadRecipe('recipes/hallucination/a_sft_base.yaml', { overrides: [...small, `run.out_dir=${join(dir, 'a')}`, 'trainer.steps=3', 'trainer.batch_size=4', 'model.init.config.d_model=16', 'model.init.config.n_heads=2'] });
    const base = (await train(a, { tracker: new NullTracker() })).checkpoint!;
    const ck = [`model.init.checkpoint=${base}`];
    const b = loadAnyRecipe('recipes/hallucination/b_probe.yaml', { overrides: [...small, ...ck, `run.out_dir=${join(dir, 'b')}`, 'probes.0.train.max_epochs=5'] });
    const tok = createTokenizer('byte');
    const model = buildModel(b, tok);
    const frozen = model.frozenCopy();
    const probe = await trainRecipeProbe(b.probes[0]!, frozen, tok);
    saveProbe(probeDir(b, b.probes[0]!), probe);
    [probe, frozen, model].forEach((x) => x.dispose());

    const out = join(dir, 'lora');
    const set = [...small, ...ck, `run.out_dir=${out}`, `probes.0.checkpoint=${probeDir(b, b.probes[0]!)}`, 'trainer.batch_size=2', 'trainer.group_size=2', 'trainer.max_new_tokens=4', 'trainer.log_every=1'];
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    const r1 = await train(loadRecipe('recipes/lora-hallucination.yaml', { overrides: [...set, 'trainer.steps=3'] }), { tracker: new NullTracker(), stopAfter: 2, onLog: (l) => lines.push(l) });
    expect(r1.interrupted).toBe(true);
    expect(lines.some((l) => /^lora: 12 adapters, 4,608 trainable parameters/.test(l))).toBe(true);
    const r = await train(loadRecipe('recipes/lora-hallucination.yaml', { overrides: [...set, 'trainer.steps=3'] }), { tracker: new NullTracker(), resume: true });
    expect(r.step).toBe(3);
    expect(Number.isFinite(r.finalLoss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);

    // The checkpoint: the base exactly as loaded, the adapters in PEFT's files and in bonsai's.
    const baseFile = readFileSync(join(base, 'model.safetensors'));
    const c = r.checkpoint!;
    expect(readFileSync(join(c, 'model.safetensors')).subarray(0, 8)).toBeDefined();
    const baseW = readSafetensors(join(base, 'model.safetensors')).tensors;
    const kept = readSafetensors(join(c, 'model.safetensors')).tensors;
    for (const [name, t] of Object.entries(baseW)) expect(Buffer.from((kept[name]!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
    expect(baseFile.length).toBeGreaterThan(0);
    const sep = loadCheckpoint(c, { adapters: 'separate' });
    const peft = readPeftAdapter(c, sep.config, base);
    expect(peft).toMatchObject({ r: 8, alpha: 16, rslora: false });
    expect(JSON.parse(readFileSync(join(c, 'adapter_config.json'), 'utf8')).target_modules).toEqual(['c_attn', 'c_proj', 'c_fc']);
    const trainedB = sep.adapters!.get('blocks.0.mlp.W_in')!.B;
    expect(trainedB.some((v) => v !== 0)).toBe(true); // the adapters moved
    // Readers that just want the model get it merged; export writes it as a Hugging Face GPT-2.
    const merged = loadCheckpoint(c).weights.get('blocks.0.mlp.W_in')!;
    expect(merged.some((v, i) => v !== sep.weights.get('blocks.0.mlp.W_in')![i])).toBe(true);
    expect(() => exportMergedCheckpoint(c, join(dir, 'hf'))).toThrow(/vocabulary of \d+ is smaller than GPT-2's/); // a byte-level model has no GPT-2 layout
    expect(existsSync(join(dir, 'hf'))).toBe(false); // and nothing half-written
  }, 600_000);
});

describe('recipes/lora-llama.yaml (and its chain), tiny', () => {
  it('RL-trains adapters on a from-scratch Llama with GQA against the frozen-base probe: base bit-identical, PEFT files with Llama module names', async () => {
    const dir = tempDir();
    // The chain's own base recipe, shrunk: 4 query heads over 2 key/value heads stays (d_head 4).
    const a = loadRecipe('recipes/lora-llama/a_sft_base.yaml', { overrides: [...small, `run.out_dir=${join(dir, 'a')}`, 'trainer.steps=3', 'trainer.batch_size=4', 'model.init.config.d_model=16', 'model.init.config.d_mlp=24'] });
    expect(a.model.init).toMatchObject({ config: { family: 'llama', n_heads: 4, n_kv_heads: 2 } });
    const base = (await train(a, { tracker: new NullTracker() })).checkpoint!;
    const ck = [`model.init.checkpoint=${base}`];
    const b = loadAnyRecipe('recipes/lora-llama/b_probe.yaml', { overrides: [...small, ...ck, `run.out_dir=${join(dir, 'b')}`, 'probes.0.train.max_epochs=5'] });
    const tok = createTokenizer('byte');
    const model = buildModel(b, tok);
    const frozen = model.frozenCopy();
    const probe = await trainRecipeProbe(b.probes[0]!, frozen, tok);
    saveProbe(probeDir(b, b.probes[0]!), probe);
    [probe, frozen, model].forEach((x) => x.dispose());

    const set = [...small, ...ck, `run.out_dir=${join(dir, 'lora')}`, `probes.0.checkpoint=${probeDir(b, b.probes[0]!)}`, 'trainer.batch_size=2', 'trainer.group_size=2', 'trainer.max_new_tokens=4', 'trainer.log_every=1', 'trainer.steps=3'];
    const lines: string[] = [];
    const tracker = new MemoryTracker();
    const before = tf.memory().numTensors;
    const r = await train(loadRecipe('recipes/lora-llama.yaml', { overrides: set }), { tracker, onLog: (l) => lines.push(l) });
    expect(r.step).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    // 7 matrices × 2 blocks at r 8. Per block: W_Q, W_O 8·(16+16); W_K, W_V 8·(16+8) (GQA: 2 heads × 4);
    // W_gate, W_in 8·(16+24); W_out 8·(24+16).
    expect(lines.some((l) => /^lora: 14 adapters, 3,712 trainable parameters/.test(l)), lines.join('\n')).toBe(true);
    const probeReward = tracker.values('rewards/probe/mean');
    expect(probeReward.length).toBe(3);
    expect(probeReward.every(Number.isFinite)).toBe(true);

    // The base exactly as loaded, bit for bit; the adapters moved.
    const c = r.checkpoint!;
    const baseW = readSafetensors(join(base, 'model.safetensors')).tensors;
    const kept = readSafetensors(join(c, 'model.safetensors')).tensors;
    expect(Object.keys(kept).sort()).toEqual(Object.keys(baseW).sort());
    for (const [name, t] of Object.entries(baseW)) expect(Buffer.from((kept[name]!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).toBe(true);
    const sep = loadCheckpoint(c, { adapters: 'separate' });
    expect(sep.adapters!.get('blocks.1.mlp.W_gate')!.B.some((v) => v !== 0)).toBe(true);

    // PEFT's files name transformers' Llama modules; k_proj/v_proj's B is [n_kv_heads·d_head, r].
    const config = JSON.parse(readFileSync(join(c, 'adapter_config.json'), 'utf8'));
    expect([...config.target_modules].sort()).toEqual(['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
    const peftTensors = readSafetensors(join(c, 'adapter_model.safetensors')).tensors;
    expect(Object.keys(peftTensors)).toHaveLength(28);
    expect(peftTensors['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight']!.shape).toEqual([8, 16]);
    expect(peftTensors['base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight']!.shape).toEqual([8, 8]);
    expect(peftTensors['base_model.model.model.layers.1.mlp.gate_proj.lora_B.weight']!.shape).toEqual([24, 8]);
    expect(peftTensors['base_model.model.model.layers.1.mlp.down_proj.lora_A.weight']!.shape).toEqual([8, 24]);
    // And they read back onto the same base as the adapters the run trained.
    const peft = readPeftAdapter(c, sep.config, base);
    expect(peft).toMatchObject({ r: 8, alpha: 16, rslora: false });
    expect(peft.adapters.size).toBe(14);
    expect(Array.from(peft.adapters.get('blocks.1.mlp.W_gate')!.B)).toEqual(Array.from(sep.adapters!.get('blocks.1.mlp.W_gate')!.B));

    // export --merge writes the merged Llama in Hugging Face's layout, which reads back as the
    // same config and exactly the merged weights bonsai trains with.
    expect(exportMergedCheckpoint(c, join(dir, 'hf'))).toEqual({ family: 'llama', merged: 14 });
    const hf = readHfCheckpoint(join(dir, 'hf'));
    expect(hf.config).toEqual(sep.config);
    const mergedValues = loadCheckpoint(c).weights;
    expect([...hf.values.keys()].sort()).toEqual([...mergedValues.keys()].sort());
    for (const [path, v] of mergedValues) expect(Array.from(hf.values.get(path)!), path).toEqual(Array.from(v));
  }, 600_000);
});
