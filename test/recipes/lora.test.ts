import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportMergedCheckpoint } from '../../src/lora/export.ts';
import { readPeftAdapter } from '../../src/lora/peft.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { probeDir, trainRecipeProbe } from '../../src/probes/recipe.ts';
import { loadAnyRecipe, loadRecipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/trainer/build.ts';
import { loadCheckpoint } from '../../src/trainer/checkpoint.ts';
import { train } from '../../src/trainer/run.ts';
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
