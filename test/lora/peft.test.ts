import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initialAdapters, type AdapterSet } from '../../src/lora/adapters.ts';
import { adapterDelta } from '../../src/lora/merge.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, peftFiles, readPeftAdapter } from '../../src/lora/peft.ts';
import { loraScale } from '../../src/lora/settings.ts';
import { exportMergedAdapter } from '../../src/lora/export.ts';
import { readHfCheckpoint } from '../../src/models/families/load.ts';
import { loadHfGpt2 } from '../../src/models/families/load.ts';
import { paramSpecs } from '../../src/models/layout.ts';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { modelConfig } from '../../src/models/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const FIX = join(import.meta.dirname, '..', 'fixtures');
const gpt2 = modelConfig({ vocabSize: 50, dModel: 8, nLayers: 2, nHeads: 2, nCtx: 8, tiedEmbeddings: false });
const shapes = new Map(paramSpecs(gpt2).map((s) => [s.path, s.shape]));

/** Adapters with nonzero B (as after training) on `paths`. */
function trained(paths: string[], r: number, scale: number, seed: number): AdapterSet {
  const set = initialAdapters(new Map(paths.map((p) => [p, shapes.get(p)!])), r, scale, seed);
  const rng = new Rng(seed + 1);
  for (const v of set.values()) for (let i = 0; i < v.B.length; i++) v.B[i] = rng.normal() * 0.2;
  return set;
}

function writeAdapter(files: Record<string, Buffer | string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'peft-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

const delta = (v: AdapterSet extends Map<string, infer V> ? V : never, path: string) => adapterDelta(v, shapes.get(path)![0]!, shapes.get(path)![1]!);

describe('PEFT adapter files', () => {
  it('round-trip bonsai → PEFT layout → bonsai: the same tensors where a module is one weight, the same update where GPT-2 fuses q|k|v', () => {
    const paths = ['blocks.0.attn.W_Q', 'blocks.0.attn.W_V', 'blocks.1.attn.W_O', 'blocks.1.mlp.W_in', 'blocks.0.mlp.W_out', 'unembed.W_U'];
    for (const rslora of [false, true]) {
      const s = { r: 4, alpha: 8, dropout: 0.05, rslora };
      const adapters = trained(paths, 4, loraScale(8, 4, rslora), 11);
      const files = peftFiles(adapters, gpt2, s, 'gpt2');
      const cfg = JSON.parse(files[ADAPTER_CONFIG] as string);
      expect(cfg).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, use_rslora: rslora, fan_in_fan_out: true, base_model_name_or_path: 'gpt2', bias: 'none' });
      // c_attn holds W_Q and W_V: one adapter of rank 8, its scale kept exact by the patterns.
      expect(cfg.rank_pattern).toEqual({ 'transformer.h.0.attn.c_attn': 8 });
      const dir = writeAdapter(files);
      const st = readSafetensors(join(dir, ADAPTER_WEIGHTS));
      expect(st.tensors['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight']!.shape).toEqual([8, 8]);
      expect(st.tensors['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight']!.shape).toEqual([24, 8]);
      expect(st.tensors['base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight']!.shape).toEqual([4, 8]);
      expect(st.tensors['base_model.model.lm_head.lora_B.weight']!.shape).toEqual([50, 4]);
      const back = readPeftAdapter(dir, gpt2, 'gpt2');
      expect(back).toMatchObject({ r: 4, alpha: 8, rslora, dropout: 0.05 });
      for (const p of ['blocks.1.attn.W_O', 'blocks.1.mlp.W_in', 'blocks.0.mlp.W_out', 'unembed.W_U']) {
        const [a, b] = [adapters.get(p)!, back.adapters.get(p)!];
        expect(b.r).toBe(a.r);
        expect(b.scale).toBe(a.scale);
        expect(Array.from(b.A)).toEqual(Array.from(a.A));
        expect(Array.from(b.B)).toEqual(Array.from(a.B));
      }
      // The fused module comes back as the same update on W_Q and W_V, and none on W_K.
      for (const p of ['blocks.0.attn.W_Q', 'blocks.0.attn.W_V']) {
        const [want, got] = [delta(adapters.get(p)!, p), delta(back.adapters.get(p)!, p)];
        want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
      }
      expect(delta(back.adapters.get('blocks.0.attn.W_K')!, 'blocks.0.attn.W_K').every((v) => v === 0)).toBe(true);
      // target_modules: c_attn in block 1 has no adapter, so the exact names, as a regex PEFT full-matches.
      expect(typeof cfg.target_modules).toBe('string');
      expect(new RegExp(cfg.target_modules).test('transformer.h.0.attn.c_attn')).toBe(true);
      expect(new RegExp(cfg.target_modules).test('transformer.h.1.attn.c_attn')).toBe(false);
    }
  });

  it('refuses an adapter made for another base: shapes, modules, base_model_name_or_path', () => {
    const other = modelConfig({ vocabSize: 50, dModel: 12, nLayers: 2, nHeads: 2, nCtx: 8, tiedEmbeddings: false });
    const dir = writeAdapter(peftFiles(trained(['blocks.0.attn.W_O'], 2, 1, 3), gpt2, { r: 2, alpha: 2, dropout: 0, rslora: false }, 'runs/base-a'));
    expect(() => readPeftAdapter(dir, other)).toThrow(/made for another base\?.*c_proj: lora_A is \[2,8\] and lora_B \[8,2\], this model needs \[r, 12\] and \[12, r\]/);
    const deeper = modelConfig({ ...gpt2, nLayers: 1 });
    const dir2 = writeAdapter(peftFiles(trained(['blocks.1.attn.W_O'], 2, 1, 3), gpt2, { r: 2, alpha: 2, dropout: 0, rslora: false }));
    expect(() => readPeftAdapter(dir2, deeper)).toThrow(/transformer\.h\.1\.attn\.c_proj is not a module of this model/);
    expect(() => readPeftAdapter(dir, gpt2, 'runs/base-b')).toThrow(/made for base model "runs\/base-a", but the model here is "runs\/base-b"/);
    expect(() => readPeftAdapter(dir, gpt2, 'elsewhere/base-a')).not.toThrow(); // the same name in another folder
    const noCfg = mkdtempSync(join(tmpdir(), 'peft-'));
    expect(() => readPeftAdapter(noCfg, gpt2)).toThrow(/adapter_config.json is missing/);
  });

  it("merges as PyTorch computes PEFT's merge independently (scripts/make-lora-fixtures.py): GPT-2 Conv1D and Llama with rslora and rank/alpha patterns", () => {
    // GPT-2: fan_in_fan_out, fused c_attn, c_proj matching both attn and mlp.
    const g = loadHfGpt2(join(FIX, 'gpt2-tiny'));
    const values = g.model.valuesSync();
    g.model.dispose();
    const ga = readPeftAdapter(join(FIX, 'lora', 'gpt2-tiny'), g.config, 'test/fixtures/gpt2-tiny');
    const out = mkdtempSync(join(tmpdir(), 'merged-'));
    const r = exportMergedAdapter(join(FIX, 'gpt2-tiny'), join(FIX, 'lora', 'gpt2-tiny'), join(out, 'gpt2'));
    // Per block: c_attn → W_Q, W_K, W_V; attn.c_proj → W_O; c_fc → W_in; mlp.c_proj → W_out.
    expect(r).toEqual({ family: 'gpt2', merged: 12 });
    expect(ga.adapters.size).toBe(12);
    const want = readSafetensors(join(FIX, 'lora', 'gpt2-tiny', 'merged.safetensors')).tensors;
    const got = readSafetensors(join(out, 'gpt2', 'model.safetensors')).tensors;
    expect(Object.keys(want).length).toBe(8);
    for (const [name, t] of Object.entries(want)) {
      const mine = got[name]!.data as Float32Array;
      (t.data as Float32Array).forEach((v, i) => expect(Math.abs(mine[i]! - v), name).toBeLessThan(1e-6 * (1 + Math.abs(v))));
    }
    expect(Buffer.from((got['wte.weight']!.data as Float32Array).buffer).equals(Buffer.from(values.get('embed.W_E')!.buffer))).toBe(true);

    // Llama-3 family: rslora, rank_pattern on one q_proj, alpha_pattern on every o_proj.
    const base = join(FIX, 'hf', 'llama3');
    const ck = readHfCheckpoint(base);
    const la = readPeftAdapter(join(FIX, 'lora', 'llama3'), ck.config);
    expect(la.adapters.get('blocks.1.attn.W_Q')!.r).toBe(2); // rank_pattern
    expect(la.adapters.get('blocks.0.attn.W_O')!.scale).toBeCloseTo(3 / 2, 12); // alpha_pattern 3 / √4
    expect(la.adapters.get('blocks.0.attn.W_Q')!.scale).toBeCloseTo(8 / 2, 12); // rslora: 8 / √4
    exportMergedAdapter(base, join(FIX, 'lora', 'llama3'), join(out, 'llama3'));
    const wantL = readSafetensors(join(FIX, 'lora', 'llama3', 'merged.safetensors')).tensors;
    const gotL = readSafetensors(join(out, 'llama3', 'model.safetensors')).tensors;
    expect(Object.keys(wantL).length).toBe(14);
    for (const [name, t] of Object.entries(wantL)) {
      const mine = gotL[name]!.data as Float32Array;
      (t.data as Float32Array).forEach((v, i) => expect(Math.abs(mine[i]! - v), name).toBeLessThan(1e-6 * (1 + Math.abs(v))));
    }
    expect(JSON.parse(readFileSync(join(out, 'llama3', 'config.json'), 'utf8')).model_type).toBe('llama');
    expect(() => exportMergedAdapter(base, join(FIX, 'lora', 'llama3'), join(out, 'llama3'))).toThrow(/already exists/);
  });
});
