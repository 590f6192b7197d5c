import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { loadProbe, saveProbe } from '../../src/probes/io.ts';
import { probeDir, trainRecipeProbe } from '../../src/probes/recipe.ts';
import { scoreTokens } from '../../src/probes/token-scores.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { probeReward } from '../../src/rewards/probe.ts';
import type { RolloutBatch } from '../../src/rewards/types.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { train } from '../../src/trainer/train.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const small = ['backend=cpu', 'tracking.uri=none'];
const tok = createTokenizer('byte');
const sets = (xs: string[]) => xs.flatMap((x) => ['--set', x]);

describe('SAE recipes, tiny (base → bonsai sae train → features: sae probe → scores and reward)', () => {
  it('trains SAEs from both shipped recipes, then a token probe on the latents that scores inside the frozen pass', async () => {
    const dir = tempDir();
    const a = loadRecipe('recipes/pii-base.yaml', { overrides: [...small, `run.out_dir=${join(dir, 'a')}`, 'trainer.steps=3', 'trainer.batch_size=4', 'model.init.config.d_model=16', 'model.init.config.n_heads=2'] });
    const ck = (await train(a, { tracker: new NullTracker() })).checkpoint!;
    const tinySae = [...small, `model.init.checkpoint=${ck}`, 'sae.steps=20', 'sae.batch_size=64', 'sae.max_tokens=1500', 'sae.log_every=10'];
    const sae = join(dir, 'sae');
    const r = bonsai(['sae', 'train', 'recipes/pii-sae.yaml', ...sets([...tinySae, `sae.out=${sae}`])]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ dir: sae, hook: 'blocks.1.hook_resid_post', d: 16, latents: 64, k: 16, tokens: 1500 });
    expect(report.metrics.fve).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/step 20\/20 nmse/);
    const h = bonsai(['sae', 'train', 'recipes/hallucination/sae.yaml', ...sets([...tinySae, `sae.out=${join(dir, 'sae-h')}`])]);
    expect(h.code, h.stderr).toBe(0);
    const wrongJob = bonsai(['train', 'recipes/pii-sae.yaml']);
    expect(wrongJob.stderr).toMatch(/job: sae recipe .* run it with `bonsai sae train recipes\/pii-sae\.yaml`/);
    expect(hasStackTrace(wrongJob.stderr)).toBe(false);

    const probeData = join(dir, 'probe.jsonl');
    writeFileSync(probeData, readFileSync('data/pii/probe.jsonl', 'utf8').split('\n').slice(0, 80).join('\n'));
    const b = loadRecipe('recipes/pii-probe.yaml', { overrides: [...small, `model.init.checkpoint=${ck}`, `run.out_dir=${join(dir, 'b')}`, 'probes.0.train.max_epochs=20', `probes.0.train.data=${probeData}`, 'probes.0.features=sae', `probes.0.sae=${sae}`] });
    const model = buildModel(b, tok);
    const frozen = model.frozenCopy();
    model.dispose();
    const trained = await trainRecipeProbe(b.probes[0]!, frozen, tok);
    expect([trained.meta.features, trained.meta.d, trained.inputWidth]).toEqual(['sae', 64, 16]);
    const pdir = probeDir(b, b.probes[0]!);
    saveProbe(pdir, trained);
    trained.dispose();
    const probe = loadProbe(pdir, frozen); // carries its SAE: sae.json + sae.safetensors in the probe directory
    expect(probe.sae?.meta.latents).toBe(64);

    // Token scores and the frozen-probe reward read the same raw activations; the SAE encodes inside.
    const seqs = ['Call Ann on 555-1234.', 'Hello there.'].map((t) => tok.encode(t));
    const s1 = scoreTokens(frozen, probe, seqs);
    const before = tf.memory().numTensors;
    const s2 = scoreTokens(frozen, probe, seqs);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(s2[0]!)).toEqual(Array.from(s1[0]!));
    const T = Math.max(...seqs.map((s) => s.length));
    const ids = new Int32Array(2 * T);
    seqs.forEach((s, j) => ids.set(s, j * T));
    const batch = { ids, R: 2, T, promptLens: [5, 5], completions: seqs.map((s) => s.slice(5)) } as unknown as RolloutBatch;
    const { logits, cache } = frozen.forward(tf.tensor2d(ids, [2, T], 'int32'), { cache: probe.meta.hook });
    logits.dispose();
    const reward = probeReward({ name: 'pii', weight: 1, probe, aggregate: 'mean', sign: -1, host: 'frozen' });
    const got = await reward.score(batch, { frozen: { cache } as never });
    seqs.forEach((s, j) => {
      const want = -Array.from(s1[j]!.slice(5)).reduce((x, y) => x + y, 0) / (s.length - 5);
      expect(got[j]!).toBeCloseTo(want, 5);
    });
    cache.dispose();

    // The SAE reads blocks.1: a probe at another hook, or on another model, cannot use it.
    const other = loadRecipe('recipes/pii-probe.yaml', { overrides: [...small, `model.init.checkpoint=${ck}`, `probes.0.train.data=${probeData}`, 'probes.0.features=sae', `probes.0.sae=${sae}`, 'probes.0.hook=blocks.0.hook_resid_post'] });
    await expect(trainRecipeProbe(other.probes[0]!, frozen, tok, other.probes[0]!.hook)).rejects.toThrow(/SAE .* was trained on hook blocks\.1\.hook_resid_post, not blocks\.0\.hook_resid_post/);
    expect(() => loadRecipe('recipes/pii-probe.yaml', { overrides: [...small, `model.init.checkpoint=${ck}`, 'probes.0.features=sae'] })).toThrow(/probes\.0\.sae: features: sae needs the SAE directory/);
    reward.dispose!();
    frozen.dispose();
  }, 900_000); // about 6 minutes on the shared 2-core machine
});
