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
import { buildModel } from '../../src/models/init-build.ts';
import { train } from '../../src/trainer/train.ts';
import { constantProbe } from '../helpers/probe.ts';
import { tempDir } from '../helpers/recipes.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';
import { colourConfidence, confidenceGate } from '../../scripts/hallucination/confidence-gate.ts';
import { splitEntities, splitRows } from '../../scripts/hallucination/splits.ts';
import { chooseCheckpoint, interventionThreshold, loadRules, normalQuantile } from '../../scripts/hallucination/rules.ts';
import { runCheckpoints } from '../../scripts/hallucination/select.ts';
import { writeFileSync } from 'node:fs';
import { modelConfig } from '../../src/models/index.ts';
import { question } from '../../src/data/tasks/hallucination.ts';
import { tokenLogprobs } from '../../src/models/logprobs.ts';

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
    expect(entity.meta.features).toBe('logit_lens');
    expect(entity.meta.metrics.n).toBeGreaterThan(0);
    saveProbe(probeDir(be, be.probes[0]!), entity);
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

    // f: RL with the entity probe (logit lens) as the abstention reward, sequence and per token.
    for (const perToken of [false, true]) {
      const f = loadRecipe(R('f_rl_abstention.yaml'), {
        overrides: [...small, ...ck, `run.out_dir=${join(dir, `f${perToken}`)}`, `probes.0.checkpoint=${probeDir(be, be.probes[0]!)}`, `rewards.0.per_token=${perToken}`,
          'trainer.steps=2', 'trainer.batch_size=2', 'trainer.group_size=2', 'trainer.max_new_tokens=4', 'trainer.log_every=1', 'checkpoint.every=1'],
      });
      const before = tf.memory().numTensors;
      const sf = await train(f, { tracker: new NullTracker() });
      expect(sf.step).toBe(2);
      expect(Number.isFinite(sf.finalLoss)).toBe(true);
      expect(runCheckpoints(join(dir, `f${perToken}`)).map((c) => c.step)).toEqual([1, 2]);
      expect(tf.memory().numTensors).toBe(before);
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

  it('the validation split shares no entity with the reported one or the RL prompts; the files are what splits.ts writes', () => {
    const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));
    const val = splitEntities(world, 'validation');
    const rep = splitEntities(world, 'reported');
    const reported = new Set([...rep.known, ...rep.unseen]);
    expect([val.known.length, val.unseen.length, rep.known.length, rep.unseen.length]).toEqual([32, 128, 32, 128]);
    for (const e of [...val.known, ...val.unseen]) expect(reported.has(e), e).toBe(false);
    const rl = readFileSync('data/hallucination/rl.jsonl', 'utf8');
    for (const e of val.unseen) expect(rl.includes(`${e}`), e).toBe(false);
    const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    expect(readFileSync('data/hallucination/validation.jsonl', 'utf8')).toBe(jsonl(splitRows(world, 'validation')));
    expect(readFileSync('data/hallucination/test.jsonl', 'utf8')).toBe(jsonl(splitRows(world, 'reported')));
  });

  it('the rules file: the shipped one reads the validation split; an empty or overlapping validation split is a located error naming the overlap', () => {
    const r = loadRules('scripts/hallucination/rules.yaml');
    expect([r.splits.validation.known.size, r.splits.validation.unseen.length, r.splits.reported.known.size, r.splits.reported.unseen.length]).toEqual([32, 128, 32, 128]);
    const dir = tempDir();
    const text = readFileSync('scripts/hallucination/rules.yaml', 'utf8');
    const line = text.split('\n').findIndex((l) => l.startsWith('validation:')) + 1;
    const variant = (name: string, validation: string) => (writeFileSync(join(dir, name), text.replace(/^validation: .*$/m, `validation: ${validation}`)), join(dir, name));
    writeFileSync(join(dir, 'empty.jsonl'), '\n');
    expect(() => loadRules(variant('empty.yaml', join(dir, 'empty.jsonl')))).toThrow(new RegExp(`empty\\.yaml:${line}:1: validation: the validation split .*empty\\.jsonl is empty`));
    const val = readFileSync('data/hallucination/validation.jsonl', 'utf8').split('\n');
    const test = readFileSync('data/hallucination/test.jsonl', 'utf8').split('\n');
    writeFileSync(join(dir, 'overlap.jsonl'), [...val.slice(0, 40), test[0], test[40]].join('\n'));
    expect(() => loadRules(variant('overlap.yaml', join(dir, 'overlap.jsonl')))).toThrow(/overlap\.yaml:\d+:1: validation: the validation split shares 2 entities with the reported split data\/hallucination\/test\.jsonl: Sazopo, /);
    writeFileSync(join(dir, 'unseen-only.jsonl'), val.slice(32).join('\n'));
    expect(() => loadRules(variant('unseen-only.yaml', join(dir, 'unseen-only.jsonl')))).toThrow(/validation: the validation split .* has no known entity/);
  });

  it('the checkpoint rule keeps the eligible checkpoint with the fewest validation hallucinations, the earliest on a tie; the threshold rule extrapolates past the known scores', () => {
    const rows = [
      { step: 0, known_lost: 0, hallucination: 0.8 },
      { step: 50, known_lost: 1, hallucination: 0.3 },
      { step: 100, known_lost: 0, hallucination: 0.5 },
      { step: 150, known_lost: 0, hallucination: 0.5 },
    ];
    expect(chooseCheckpoint(rows, { checkpoint: { max_known_lost: 0 } }).step).toBe(100);
    expect(chooseCheckpoint(rows, { checkpoint: { max_known_lost: 1 } }).step).toBe(50);
    expect(normalQuantile(0.975)).toBeCloseTo(1.96, 2);
    const oof = [0.1, 0.2, 0.3, 0.2];
    const t = interventionThreshold(oof, 32, { risk: 0.1 });
    expect(t).toBeGreaterThan(0.3);
    expect(interventionThreshold(oof, 1, { risk: 0.5 })).toBeCloseTo(0.3, 5); // μ + 0·σ is below the largest: the largest
  });

  it('the confidence gate: the batched colour confidence equals one sequence at a time; it abstains below its threshold only', () => {
    const tok = createTokenizer('byte');
    const m = tinyModel(3, modelConfig({ vocabSize: tok.vocabSize, dModel: 16, nLayers: 2, nHeads: 2, nCtx: 32, tiedEmbeddings: false }));
    const frozen = m.frozenCopy();
    const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));
    const prefixes = world.known.slice(0, 3).map((e) => tok.encode(`${question(e)} `));
    const before = tf.memory().numTensors;
    const conf = colourConfidence(frozen, tok, prefixes);
    const one = (p: number[], c: string) => tf.tidy(() => {
      const w = tok.encode(`${c}\n`);
      const x = tf.tensor2d([[...p, ...w]], [1, p.length + w.length], 'int32');
      const lp = tokenLogprobs(frozen.forward(x).logits as tf.Tensor3D, x).dataSync();
      return Math.exp(w.reduce((a, _, k) => a + lp[p.length - 1 + k]!, 0));
    });
    prefixes.forEach((p, k) => expect(conf[k]).toBeCloseTo(Math.max(...COLOURS.map((c) => one(p, c))), 5));
    const small4 = { ...world, known: world.known.slice(0, 4), evalUnknown: world.evalUnknown.slice(0, 4) };
    const at = (threshold: number) => {
      const g = confidenceGate({ frozen, tok, threshold, tokens: tok.encode(answer(ABSTAIN)), onlyAfter: 0 });
      return { r: answerRates(small4, m, tok, g.insert), n: g.state.count };
    };
    expect(at(2)).toEqual({ r: { hallucination_unknown: 0, malformed_unknown: 0, accuracy_known: 0, abstain_known: 1 }, n: 8 });
    expect(at(0).n).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    [frozen, m].forEach((x) => x.dispose());
  });
});
