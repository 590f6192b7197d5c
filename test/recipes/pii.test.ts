import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrubText } from '../../src/cli/scrub.ts';
import { readPiiRecords, tokenLabels } from '../../src/data/tasks/pii.ts';
import { runs } from '../../src/data/tasks/pii-score.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { loadProbe, saveProbe } from '../../src/probes/io.ts';
import { ensureRecipeProbe, probeDir, trainRecipeProbe } from '../../src/probes/recipe.ts';
import { scoreTokens } from '../../src/probes/token-scores.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { train } from '../../src/trainer/train.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { constantProbe } from '../helpers/probe.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const small = ['backend=cpu', 'tracking.uri=none'];
const tok = createTokenizer('byte');
const scrubStdin = (args: string[], input: string) =>
  spawnSync(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'bonsai.js'), 'scrub', ...args], { input, encoding: 'utf8', timeout: 240_000 });

describe('PII recipes, tiny (base → token probe → bonsai scrub)', () => {
  it('trains the base and the probe from the shipped recipes; scrub masks exactly the runs where the probe fires', async () => {
    const dir = tempDir();
    const a = loadRecipe('recipes/pii-base.yaml', { overrides: [...small, `run.out_dir=${join(dir, 'a')}`, 'trainer.steps=3', 'trainer.batch_size=4', 'model.init.config.d_model=16', 'model.init.config.n_heads=2'] });
    const sa = await train(a, { tracker: new NullTracker() });
    // The shipped probe data's first 80 lines (about 20 texts): enough for both classes, quick on a shared CPU.
    const probeData = join(dir, 'probe.jsonl');
    writeFileSync(probeData, readFileSync('data/pii/probe.jsonl', 'utf8').split('\n').slice(0, 80).join('\n'));
    const b = loadRecipe('recipes/pii-probe.yaml', { overrides: [...small, `model.init.checkpoint=${sa.checkpoint}`, `run.out_dir=${join(dir, 'b')}`, 'probes.0.train.max_epochs=30', `probes.0.train.data=${probeData}`] });
    const model = buildModel(b, tok);
    const frozen = model.frozenCopy();
    model.dispose();
    const probe = await trainRecipeProbe(b.probes[0]!, frozen, tok);
    expect(probe.meta.metrics.n).toBeGreaterThan(100);
    const pdir = probeDir(b, b.probes[0]!);
    saveProbe(pdir, probe);
    probe.dispose();
    // ensureRecipeProbe reuses a saved probe untouched, and trains and saves one where none is.
    const saved = readFileSync(join(pdir, 'probe.json'), 'utf8');
    const trained: number[] = [];
    expect(await ensureRecipeProbe(b, frozen, tok, (p) => trained.push(p.meta.metrics.n))).toBe(pdir);
    expect(trained).toEqual([]);
    expect(readFileSync(join(pdir, 'probe.json'), 'utf8')).toBe(saved);
    const fresh = { ...b, run: { ...b.run, out_dir: join(dir, 'b2') } };
    const before0 = tf.memory().numTensors;
    const pdir2 = await ensureRecipeProbe(fresh, frozen, tok, (p) => trained.push(p.meta.metrics.n));
    expect(tf.memory().numTensors).toBe(before0);
    expect(pdir2).toBe(probeDir(fresh, fresh.probes[0]!));
    expect(trained).toHaveLength(1);
    expect(existsSync(join(pdir2, 'probe.json'))).toBe(true);

    const texts = readPiiRecords('data/pii/eval-ood.jsonl').slice(0, 4).map((r) => r.text.replace(/\n/g, ' '));
    const input = join(dir, 'in.txt');
    writeFileSync(input, texts.join('\n'));
    const loaded = loadProbe(pdir, frozen);
    const before = tf.memory().numTensors;
    const expected = scrubText(frozen, loaded, tok, texts.join('\n'), { mask: '#' });
    expect(tf.memory().numTensors).toBe(before);
    // The same masking, rebuilt from the raw token scores (byte tokens: one character each).
    const scores = scoreTokens(frozen, loaded, texts.map((t) => tok.encode(t)));
    const rebuilt = texts.map((t, i) => {
      const flags = Array.from(scores[i]!, (s) => (s >= loaded.meta.threshold ? 1 : 0));
      return runs(flags).reduceRight((acc, [x, y]) => acc.slice(0, x) + '#' + acc.slice(y), t);
    });
    expect(expected.text).toBe(rebuilt.join('\n'));
    loaded.dispose();

    const fromFile = bonsai(['scrub', '--checkpoint', sa.checkpoint!, '--probe', pdir, '--mask', '#', '--backend', 'cpu', input]);
    expect(fromFile.stderr).toMatch(/scrub: \d+ tokens masked/);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toBe(expected.text);
    // threshold 0: every token fires, so each line is one mask; stdin works as a file does.
    const all = scrubStdin(['--checkpoint', join(dir, 'a'), '--probe', pdir, '--threshold', '0', '--backend', 'cpu'], 'call Ann on 555-1234\nhi');
    expect(all.stdout).toBe('[PII]\n[PII]');
    const bad = bonsai(['scrub', '--checkpoint', join(dir, 'a'), '--probe', join(dir, 'nope'), '--backend', 'cpu', input]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot read probe metadata/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
    frozen.dispose();
  }, 400_000);

  it('token scores past the context come from windows that keep at least half a context before each token', () => {
    const a = loadRecipe('recipes/pii-base.yaml', { overrides: [...small, 'model.init.config.d_model=16', 'model.init.config.n_heads=2', 'model.init.config.n_ctx=8', 'data.seq_len=8'] });
    const model = buildModel(a, tok);
    const frozen = model.frozenCopy();
    model.dispose();
    const probe = constantProbe(frozen, 'blocks.1.hook_resid_post', 0);
    // A real direction, so scores depend on context: the probe reads the mean-free activations.
    probe.weights.w!.dispose();
    probe.weights.w = tf.randomNormal([16], 0, 1, 'float32', 3);
    const ids = tok.encode('Ship the parcel to Ann Lee, 4 Oak St.');
    const [long] = scoreTokens(frozen, probe, [ids]);
    // Windows [0, 8), then [4, 12) for tokens 8-11, [8, 16) for 12-15, …
    for (const t of [0, 7, 8, 12, 20, 27]) {
      const start = t < 8 ? 0 : t - 4 - ((t - 8) % 4);
      const [win] = scoreTokens(frozen, probe, [ids.slice(start, t + 1)]);
      expect(long![t]).toBeCloseTo(win![t - start]!, 5);
    }
    expect(() => scoreTokens(frozen, constantProbe(frozen, 'blocks.1.hook_resid_post', 0, 'sequence'), [ids])).toThrow(/sequence-level probe/);
    const lab = tokenLabels(tok, readPiiRecords('data/pii/eval-id.jsonl')[1]!);
    expect(lab.labels.length).toBe(lab.ids.length);
    probe.dispose();
    frozen.dispose();
  });
});
