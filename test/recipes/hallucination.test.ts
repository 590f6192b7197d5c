import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { answerRates, worldFromJson } from '../../src/data/tasks/hallucination-eval.ts';
import { ABSTAIN, answer, COLOURS } from '../../src/data/tasks/hallucination.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { probeIntervention } from '../../src/probes/intervene.ts';
import { saveProbe } from '../../src/probes/io.ts';
import { probeDir, trainRecipeProbe } from '../../src/probes/recipe.ts';
import { loadAnyRecipe, loadRecipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { buildModel } from '../../src/trainer/build.ts';
import { train } from '../../src/trainer/run.ts';
import { constantProbe } from '../helpers/probe.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';
import { chooseCheckpoint, testOnlyKnown, validationWorld, type Candidate } from '../../scripts/hallucination/select.ts';

beforeAll(useCpu);
const R = (f: string) => `recipes/hallucination/${f}`;
const small = ['backend=cpu', 'tracking.uri=none'];

describe('hallucination recipes, tiny runs (a → b → c, d)', () => {
  it('SFT base, probe on the frozen base, RL with the frozen and the live probe', async () => {
    const dir = tempDir();
    const a = loadRecipe(R('a_sft_base.yaml'), { overrides: [...small, `run.out_dir=${join(dir, 'a')}`, 'trainer.steps=3', 'trainer.batch_size=4', 'model.init.config.d_model=16', 'model.init.config.n_heads=2'] });
    const sa = await train(a, { tracker: new NullTracker() });
    expect(sa.checkpoint).toBeDefined();
    const ck = [`model.init.checkpoint=${sa.checkpoint}`];

    const b = loadAnyRecipe(R('b_probe.yaml'), { overrides: [...small, ...ck, `run.out_dir=${join(dir, 'b')}`, 'probes.0.train.max_epochs=20'] });
    const tok = createTokenizer('byte');
    const model = buildModel(b, tok);
    const frozen = model.frozenCopy();
    const probe = await trainRecipeProbe(b.probes[0]!, frozen, tok);
    expect(probe.meta.metrics.n).toBeGreaterThan(0);
    saveProbe(probeDir(b, b.probes[0]!), probe);

    // b': the entity probe, read at the prompt's last token; with it firing everywhere, the
    // intervention turns every answer into an abstention.
    const be = loadAnyRecipe(R('b_entity_probe.yaml'), { overrides: [...small, ...ck, `run.out_dir=${join(dir, 'be')}`, 'probes.0.train.max_epochs=20'] });
    const entity = await trainRecipeProbe(be.probes[0]!, frozen, tok);
    expect(entity.meta.level).toBe('sequence');
    expect(entity.meta.metrics.n).toBeGreaterThan(0);
    const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));
    const small8 = { ...world, known: world.known.slice(0, 8), evalUnknown: world.evalUnknown.slice(0, 8) };
    const always = constantProbe(frozen, be.probes[0]!.hook, 5, 'sequence');
    const before = tf.memory().numTensors;
    const iv = probeIntervention({ frozen, probe: always, tokens: tok.encode(answer(ABSTAIN)), onlyAfter: 0 });
    const r = answerRates(small8, model, tok, iv.insert);
    expect(r).toEqual({ hallucination_unknown: 0, malformed_unknown: 0, accuracy_known: 0, abstain_known: 1 });
    expect(iv.state.count).toBe(16);
    expect(tf.memory().numTensors).toBe(before);
    [probe, entity, always, frozen, model].forEach((x) => x.dispose());

    for (const f of ['c_rl_frozen_probe.yaml', 'd_rl_live_probe.yaml']) {
      const out = join(dir, f);
      const c = loadRecipe(R(f), {
        overrides: [...small, ...ck, `run.out_dir=${out}`, `probes.0.checkpoint=${probeDir(b, b.probes[0]!)}`, 'trainer.steps=2', 'trainer.batch_size=2', 'trainer.group_size=2', 'trainer.max_new_tokens=4', 'trainer.log_every=1'],
      });
      const before = tf.memory().numTensors;
      const sc = await train(c, { tracker: new NullTracker() });
      expect(sc.step).toBe(2);
      expect(Number.isFinite(sc.finalLoss)).toBe(true);
      expect(existsSync(sc.checkpoint!)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      // A second fresh run would prune the first one's checkpoints: refused, as in SFT.
      await expect(train(c, { tracker: new NullTracker() })).rejects.toThrow(/already holds checkpoints/);
      expect(existsSync(sc.checkpoint!)).toBe(true);
    }
  });

  it("the RL recipes' format reward takes a colour or \" unknown\" only, not the text RL found to fool the probe", () => {
    for (const f of ['c_rl_frozen_probe.yaml', 'd_rl_live_probe.yaml']) {
      const r = loadRecipe(R(f), { overrides: ['model.init.checkpoint=test/fixtures/recipes/checkpoint'] });
      const format = r.rewards.find((w) => w.name === 'format');
      if (format?.kind !== 'regex') throw new Error(`${f}: no regex reward named format`);
      const re = new RegExp(format.pattern);
      for (const a of [...COLOURS, ABSTAIN]) expect(re.test(answer(a)), `${f}: ${a}`).toBe(true);
      for (const t of [' u\n', ' unknoun\n', ' redd\n', '\n', ' red']) expect(re.test(t), `${f}: ${JSON.stringify(t)}`).toBe(false);
    }
  });

  it('an RL recipe without rewards, or naming a missing probe, fails validation', () => {
    expect(() => loadRecipe(R('c_rl_frozen_probe.yaml'), { overrides: ['model.init.checkpoint=test/fixtures/recipes/checkpoint', 'rewards=[]'] })).toThrow(/rewards: an rl trainer needs at least one reward/);
    expect(() => loadRecipe(R('c_rl_frozen_probe.yaml'), { overrides: ['model.init.checkpoint=test/fixtures/recipes/checkpoint', 'rewards.0.probe=nope'] })).toThrow(/no probe named "nope" in probes \(probes: halluc\)/);
  });

  it('the RL recipes keep a checkpoint every 50 steps, all of them, for the validation choice', () => {
    for (const f of ['c_rl_frozen_probe.yaml', 'd_rl_live_probe.yaml']) {
      const r = loadRecipe(R(f), { overrides: ['model.init.checkpoint=test/fixtures/recipes/checkpoint'] });
      expect(r.checkpoint.every, f).toBe(50);
      expect(r.checkpoint.keep * r.checkpoint.every, f).toBeGreaterThanOrEqual(r.trainer.steps);
    }
  });

  it('the validation split shares no entity with the test entities or the RL prompts', () => {
    const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));
    const val = validationWorld(world);
    const test = new Set([...world.evalUnknown, ...testOnlyKnown(world).known]);
    expect(val.known).toHaveLength(32);
    expect(val.evalUnknown).toHaveLength(128);
    for (const e of [...val.known, ...val.evalUnknown]) expect(test.has(e), e).toBe(false);
    const rl = readFileSync('data/hallucination/rl.jsonl', 'utf8');
    for (const e of val.evalUnknown) expect(rl.includes(`${e}`), e).toBe(false);
  });

  it('the checkpoint choice: fewest validation hallucinations among those that lose no known answer, ties to the earlier', () => {
    const rates = (h: number, acc: number, abstain = 1 - acc) => ({ hallucination_unknown: h, malformed_unknown: 0, accuracy_known: acc, abstain_known: abstain });
    const c = (step: number, h: number, acc: number, abstain?: number): Candidate => ({ step, dir: `run/step-${step}`, val: rates(h, acc, abstain) });
    const base = rates(0.8, 1);
    expect(chooseCheckpoint(base, [c(50, 0.6, 1), c(100, 0.3, 0.97), c(150, 0.4, 1), c(200, 0.4, 1)])?.step).toBe(150);
    // The base's own misses do not count against a checkpoint; abstaining on > 5% does.
    expect(chooseCheckpoint(rates(0.8, 0.9, 0.1), [c(50, 0.5, 0.9, 0.1)])).toBeNull();
    expect(chooseCheckpoint(rates(0.8, 0.97, 0), [c(50, 0.5, 0.97, 0.03)])?.step).toBe(50);
    expect(chooseCheckpoint(base, [c(50, 0.2, 0.94)])).toBeNull();
  });
});
