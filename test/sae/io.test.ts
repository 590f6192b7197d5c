import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/models/safetensors.ts';
import { collectActivations } from '../../src/sae/activations.ts';
import { loadSae, saveSae } from '../../src/sae/io.ts';
import { trainSae } from '../../src/sae/train.ts';
import { Rng } from '../../src/util/rng.ts';
import { tempDir } from '../helpers/recipes.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const HOOK = 'blocks.1.hook_resid_post';
const seqs = (n: number) => { const rng = new Rng(3); return Array.from({ length: n }, () => Array.from({ length: 8 }, () => rng.int(23))); };

describe('SAE files', () => {
  it('round-trip with the fingerprint and hook; another model or hook is refused, naming both', () => {
    const model = tinyModel(1).frozenCopy();
    const rows = collectActivations(model, HOOK, seqs(40), 1000);
    expect([rows.n, rows.d]).toEqual([320, 16]);
    const sae = trainSae(rows, { hook: HOOK, fingerprint: model.fingerprint(), latents: 32, k: 4, steps: 5, batchSize: 32, lr: 1e-3, seed: 0, heldOut: 0.1, auxK: 8, auxCoef: 1 / 32, deadSteps: 2 });
    const root = tempDir();
    const dir = join(root, 'sae');
    saveSae(dir, sae);
    expect(readdirSync(root)).toEqual(['sae']); // no temp folder left behind
    expect(readSafetensors(join(dir, 'sae.safetensors')).metadata).toMatchObject({ hook: HOOK, fingerprint: model.fingerprint() });
    expect(JSON.parse(readFileSync(join(dir, 'sae.json'), 'utf8'))).toMatchObject({ format: 'bonsai-sae/1', hook: HOOK, d: 16, latents: 32, k: 4 });
    const back = loadSae(dir, { fingerprint: model.fingerprint(), hook: HOOK });
    const x = tf.randomNormal([5, 16]);
    expect(Array.from(back.encode(x).dataSync())).toEqual(Array.from(sae.encode(x).dataSync()));

    const other = tinyModel(2).frozenCopy();
    expect(() => loadSae(dir, { fingerprint: other.fingerprint(), hook: HOOK })).toThrow(/SAE .* was trained on another model \(fingerprint sha256:/);
    expect(() => loadSae(dir, { fingerprint: model.fingerprint(), hook: 'blocks.0.hook_resid_post' })).toThrow(/was trained on hook blocks\.1\.hook_resid_post, not blocks\.0\.hook_resid_post/);
    expect(() => loadSae(root, { fingerprint: model.fingerprint(), hook: HOOK })).toThrow(/is not an SAE: it has no sae\.json/);
    expect(() => collectActivations(model, 'blocks.7.hook_resid_post', seqs(1), 10)).toThrow(/sae\.hook: "blocks\.7\.hook_resid_post" is not a hook point/);
    expect(existsSync(join(dir, 'sae.json'))).toBe(true);
    [sae, back, model, other].forEach((m) => m.dispose());
    x.dispose();
  });
});
