import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { piiChars, piiInText, replyExamples, STATUSES } from '../../src/data/tasks/pii-reply.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { probeDir, trainRecipeProbe } from '../../src/probes/recipe.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const tiny = ['backend=cpu', 'model.init.config.d_model=16', 'model.init.config.n_heads=2'];

describe('PII reply task', () => {
  it('leaking replies carry their PII where the spans say; the pattern finder sees exactly those values', () => {
    const ex = replyExamples(200, 3, 0.7);
    const completions = ex.map((e) => e.record.text.slice(e.prompt.length));
    const leaking = completions.filter((c) => piiChars(c) > 0).length;
    expect(leaking / ex.length).toBeGreaterThan(0.6);
    expect(leaking / ex.length).toBeLessThan(0.8);
    for (const e of ex) {
      expect(e.record.text.slice(e.prompt.length)).toMatch(new RegExp(`^ ${e.answer}\\.`));
      // The finder's spans in the whole text are exactly the generator's.
      expect(piiInText(e.record.text)).toEqual(e.record.spans.map(({ start, end, kind }) => ({ start, end, kind })));
    }
    expect(piiChars(' Order held. Call me later, ticket 555-12.')).toBe(0);
    expect(new Set(ex.map((e) => e.answer)).size).toBe(STATUSES.length);
    for (const e of ex) expect(e.prompt).toMatch(new RegExp(` order ${e.answer.slice('Order '.length)}:$`));
  });
});

describe('PII RL recipes, tiny (leaking base → token probe → RL with a per-token probe penalty + a task reward)', () => {
  it('trains each shipped recipe; the RL run logs per-token reward statistics to the tracker', async () => {
    const dir = tempDir();
    const a = loadRecipe('recipes/pii-reply-base.yaml', { overrides: [...tiny, 'tracking.uri=none', `run.out_dir=${join(dir, 'a')}`, 'trainer.steps=2', 'trainer.batch_size=4'] });
    const base = await train(a, { tracker: new NullTracker() });
    const probeData = join(dir, 'probe.jsonl');
    writeFileSync(probeData, readFileSync('data/pii/reply-probe.jsonl', 'utf8').split('\n').slice(0, 42).join('\n'));
    const b = loadRecipe('recipes/pii-reply-probe.yaml', { overrides: ['backend=cpu', 'tracking.uri=none', `model.init.checkpoint=${base.checkpoint}`, `run.out_dir=${join(dir, 'b')}`, 'probes.0.train.max_epochs=5', `probes.0.train.data=${probeData}`] });
    const tok = createTokenizer('byte');
    const model = buildModel(b, tok);
    const frozen = model.frozenCopy();
    model.dispose();
    const probe = await trainRecipeProbe(b.probes[0]!, frozen, tok);
    const pdir = probeDir(b, b.probes[0]!);
    saveProbe(pdir, probe);
    [probe, frozen].forEach((x) => x.dispose());
    const mlruns = join(dir, 'mlruns');
    const c = loadRecipe('recipes/pii-reply-rl.yaml', { overrides: ['backend=cpu', `tracking.uri=${mlruns}`, `model.init.checkpoint=${base.checkpoint}`, `probes.0.checkpoint=${pdir}`, `run.out_dir=${join(dir, 'c')}`, 'trainer.steps=2', 'trainer.batch_size=1', 'trainer.group_size=2', 'trainer.log_every=1'] });
    expect(c.rewards.map((r) => [r.name, r.kind === 'probe' ? r.aggregate : r.kind])).toEqual([['pii', 'none'], ['task', 'exact_match']]);
    const rl = await train(c);
    expect(rl.step).toBe(2);
    const exp = readdirSync(mlruns).find((d) => existsSync(join(mlruns, d, 'meta.yaml')) && d !== '0' && d !== '.trash')!;
    const run = readdirSync(join(mlruns, exp)).find((d) => existsSync(join(mlruns, exp, d, 'metrics')))!;
    const metric = (...p: string[]) => readFileSync(join(mlruns, exp, run, 'metrics', 'rewards', ...p), 'utf8').trim().split('\n');
    // Both kinds in one run: the per-token reward's token statistics and sums, the task reward's mean.
    for (const k of ['token_mean', 'token_std', 'token_min', 'token_max', 'mean']) expect(metric('pii', k)).toHaveLength(2);
    expect(metric('task', 'mean')).toHaveLength(2);
    const tokenMax = Number(metric('pii', 'token_max')[0]!.split(' ')[1]);
    expect(tokenMax).toBeLessThanOrEqual(0); // sign −1 × a probability
  }, 600_000);
});
