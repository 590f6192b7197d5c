import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHfCheckpoint } from '../../../src/models/families/load.ts';
import { saveHfCheckpoint, type HfWeightDtype } from '../../../src/models/families/save.ts';
import { readSafetensors } from '../../../src/models/safetensors.ts';
import { tempDir } from '../../helpers/recipes.ts';

const ROOT = 'test/fixtures/hf';
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const STORED: Record<string, HfWeightDtype> = { llama3: 'F32', 'llama-linear': 'BF16', mistral: 'F32', qwen2: 'F32', qwen3: 'F16', pythia: 'F32', gemma2: 'F32', gemma3: 'BF16', olmo2: 'F32' };

/** Every tensor of a checkpoint dir (one file or shards), by name. */
function tensorsOf(dir: string) {
  const out = new Map<string, { dtype: string; shape: number[]; data: Float32Array }>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.safetensors'))) {
    for (const [name, t] of Object.entries(readSafetensors(join(dir, f)).tensors)) out.set(name, { dtype: t.dtype, shape: t.shape, data: t.data as Float32Array });
  }
  return out;
}

describe.each(Object.entries(STORED))('saveHfCheckpoint: %s', (name, dtype) => {
  it('writes the HF names, shapes and dtype back, and reloads bit-identically', () => {
    const src = join(ROOT, name);
    const hfConfig = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
    const first = readHfCheckpoint(src);
    const out = join(tempDir('bonsai-family-save-'), 'out');
    saveHfCheckpoint(out, first.config, hfConfig, first.values, dtype);
    // The same tensors as the fixture (also the sharded one, written back as one file).
    const want = tensorsOf(src);
    const got = tensorsOf(out);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [n, t] of want) {
      expect(got.get(n)!.dtype, n).toBe(t.dtype);
      expect(got.get(n)!.shape, n).toEqual(t.shape);
      expect(bytes(got.get(n)!.data).equals(bytes(t.data)), n).toBe(true);
    }
    const again = readHfCheckpoint(out);
    expect(again.config).toEqual(first.config);
    for (const [path, v] of first.values) expect(bytes(again.values.get(path)!).equals(bytes(v)), path).toBe(true);
    expect(() => saveHfCheckpoint(out, first.config, hfConfig, first.values)).toThrow(/already exists/);
    expect(readdirSync(join(out, '..'))).toEqual(['out']); // no temporary left behind
    expect(existsSync(join(out, 'config.json'))).toBe(true);
  });
});
