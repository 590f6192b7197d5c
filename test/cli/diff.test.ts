import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HookedTransformer, modelConfig } from '../../src/models/index.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir } from '../helpers/recipes.ts';
import { byteConfig } from '../diff/helpers.ts';

/** Writes a byte-tokenizer checkpoint of a fresh model (seed) into dir. */
function checkpoint(dir: string, seed: number, config = byteConfig): string {
  const m = HookedTransformer.create(config, seed);
  saveCheckpoint(dir, { config, tokenizer: 'byte', weights: m.valuesSync() });
  m.dispose();
  return dir;
}

describe('bonsai diff', () => {
  it('reports an empty diff of a model with itself, a full one against another, and refuses another architecture by field', () => {
    const dir = tempDir();
    const a = checkpoint(join(dir, 'a'), 1);
    const b = checkpoint(join(dir, 'b'), 2);
    const data = join(dir, 'text.txt');
    writeFileSync(data, 'abcabc\nzzz yyy\nhello world\n');
    const out = join(dir, 'self.json');
    const self = bonsai(['diff', a, a, '--data', data, '--json', out, '--backend', 'cpu']);
    expect(self.code, self.stderr).toBe(0);
    expect(self.stdout).toMatch(/identical weights/);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    expect(rep.format).toBe('bonsai.diff/1');
    expect(rep.a.fingerprint).toBe(rep.b.fingerprint);
    expect(rep.weights.heads.every((h: { rel_change: number }) => h.rel_change === 0)).toBe(true);
    expect(rep.lens.every((l: { promoted: unknown[]; suppressed: unknown[] }) => l.promoted.length === 0 && l.suppressed.length === 0)).toBe(true);

    const dirs = join(dir, 'lens');
    const full = bonsai(['diff', a, b, '--data', data, '--positions', '1-2', '--directions', dirs, '--json', join(dir, 'ab.json'), '--backend', 'cpu']);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/lens: mean\(B − A\) of the residual stream at positions 1,2/);
    const ab = JSON.parse(readFileSync(join(dir, 'ab.json'), 'utf8'));
    expect(ab.weights.heads[0].rel_change).toBeGreaterThanOrEqual(ab.weights.heads.at(-1).rel_change);
    expect(ab.lens[1].promoted.length).toBeGreaterThan(0);
    expect(ab.directions).toEqual([join(dirs, 'lens-layer0.json'), join(dirs, 'lens-layer1.json')]);
    expect(JSON.parse(readFileSync(ab.directions[1], 'utf8'))).toMatchObject({ format: 'bonsai-directions/1', kind: 'activation', hook: 'blocks.1.hook_resid_post' });

    const c = checkpoint(join(dir, 'c'), 1, modelConfig({ ...byteConfig, nLayers: 3, nHeads: 4 }));
    const bad = bonsai(['diff', a, c, '--json', join(dir, 'bad.json'), '--backend', 'cpu']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot diff .*\/a and .*\/c: they differ in nLayers \(A 2, B 3\), nHeads \(A 2, B 4\)/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });

  it('diffs Hugging Face GPT-2 folders too, and names vocabulary and tokenizer against a byte-level checkpoint', () => {
    const fixture = 'test/fixtures/gpt2-tiny';
    const self = bonsai(['diff', fixture, fixture, '--backend', 'cpu']);
    expect(self.code, self.stderr).toBe(0);
    expect(self.stdout).toMatch(/identical weights/);
    const byte = checkpoint(join(tempDir(), 'a'), 1);
    const bad = bonsai(['diff', byte, fixture, '--backend', 'cpu']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/they differ in vocabSize \(A 257, B 50257\).*tokenizer \(A byte, B gpt2\)/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
  });

  it('generate --amplify-from at α = 0 samples exactly what plain generation does under the same seed', () => {
    const dir = tempDir();
    const a = checkpoint(join(dir, 'a'), 1);
    const b = checkpoint(join(dir, 'b'), 2);
    const args = ['generate', '--checkpoint', b, '--prompt', 'abc', '--max-new-tokens', '12', '--temperature', '1', '--seed', '5', '--backend', 'cpu'];
    const plain = bonsai(args);
    const zero = bonsai([...args, '--amplify-from', a, '--alpha', '0']);
    const strong = bonsai([...args, '--amplify-from', a, '--alpha', '8']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(zero.code, zero.stderr).toBe(0);
    expect(zero.stdout).toBe(plain.stdout);
    expect(strong.stdout).not.toBe(plain.stdout);
    const lone = bonsai([...args, '--alpha', '2']);
    expect(lone.code).toBe(1);
    expect(lone.stderr).toMatch(/--alpha needs --amplify-from/);
  });
});
