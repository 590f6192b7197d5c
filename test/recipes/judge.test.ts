import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRecords } from '../../src/data/records.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { judgeScores, labelId, sequenceJudgeLines, tokenJudgeLines, SEQUENCE_JUDGE, TOKEN_JUDGE } from '../../src/probes/judge.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { NullTracker } from '../../src/tracking/index.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const small = ['backend=cpu', 'tracking.uri=none'];
const tinyModel = ['model.init.config.d_model=16', 'model.init.config.n_heads=2'];
const tok = createTokenizer('byte');
type Line = { prompt: string; completion: string; label: number };

const read = (f: string) => readRecords(f, { prompt: 'string', completion: 'string', label: 'number' }) as Line[];
const judgeLines = (f: string) => readRecords(f, { prompt: 'string', completion: 'string' }) as Array<{ prompt: string; completion: string }>;

// The judge recipes (probe-vs-judge comparison): a tiny base, then the judge SFT on the shipped
// labelling data, then the judge is read as bench/probe_vs_judge.ts reads it.
describe.each([
  ['recipes/hallucination/a_sft_base.yaml', 'recipes/hallucination/e_judge.yaml', 'data/hallucination/judge.jsonl', 'sequence'],
  ['recipes/pii-base.yaml', 'recipes/pii-judge.yaml', 'data/pii/judge.jsonl', 'token'],
] as const)('%s → %s, tiny', (baseRecipe, judgeRecipe, judgeData, level) => {
  it('trains the judge from the base on the labelling lines; its scores are finite, one per query', async () => {
    const dir = tempDir();
    const base = await train(loadRecipe(baseRecipe, { overrides: [...small, ...tinyModel, `run.out_dir=${join(dir, 'base')}`, 'trainer.steps=2', 'trainer.batch_size=4'] }), { tracker: new NullTracker() });
    const f = level === 'sequence' ? SEQUENCE_JUDGE : TOKEN_JUDGE;
    const lines = judgeLines(judgeData);
    const j = loadRecipe(judgeRecipe, { overrides: [...small, `model.init.checkpoint=${base.checkpoint}`, `run.out_dir=${join(dir, 'judge')}`, 'trainer.steps=2', 'trainer.batch_size=4'] });
    const r = await train(j, { tracker: new NullTracker() });
    expect(r.step).toBe(2);
    expect(Number.isFinite(r.finalLoss)).toBe(true);
    const ck = loadCheckpoint(r.checkpoint!);
    const judge = HookedTransformer.fromValues(ck.config, ck.weights);
    const before = tf.memory().numTensors;
    const queries = lines.slice(0, 5).map((l) => tok.encode(l.prompt));
    const s = judgeScores(judge, queries, labelId(tok, f.yes), labelId(tok, f.no));
    expect(s).toHaveLength(5);
    expect([...s].every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    judge.dispose();
  });
});

describe('the shipped judge data', () => {
  it('is written from the probe training data only (scripts/judge/make-data.ts)', () => {
    expect(judgeLines('data/hallucination/judge.jsonl')).toEqual(sequenceJudgeLines(read('data/hallucination/probe.jsonl'), SEQUENCE_JUDGE));
    const all = new Set(tokenJudgeLines(read('data/pii/probe.jsonl'), tok, TOKEN_JUDGE).map((l) => JSON.stringify(l)));
    const pii = judgeLines('data/pii/judge.jsonl');
    expect(pii).toHaveLength(8000);
    expect(pii.filter((l) => !all.has(JSON.stringify({ prompt: l.prompt, completion: l.completion })))).toEqual([]);
  });
});
