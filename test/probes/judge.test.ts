import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { judgeScores, labelId, sequenceJudgeLines, tokenJudgeLines, tokenQueries, TOKEN_JUDGE } from '../../src/probes/judge.ts';
import { tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);
const tok = createTokenizer('byte');

describe('judge labelling format', () => {
  it('sequence lines: the whole text and the mark → the label', () => {
    const f = { mark: '#', yes: 'Y', no: 'N' };
    expect(sequenceJudgeLines([{ prompt: 'Q:', completion: ' red\n', label: 1 }, { prompt: 'Q:', completion: ' x\n', label: 0 }], f)).toEqual([
      { prompt: 'Q: red\n#', completion: 'Y' },
      { prompt: 'Q: x\n#', completion: 'N' },
    ]);
  });

  it('token lines: one per completion token, the prefix up to and including it', () => {
    const lines = tokenJudgeLines([{ prompt: 'ab', completion: 'cd', label: 1 }, { prompt: '', completion: 'e', label: 0 }], tok, TOKEN_JUDGE);
    expect(lines).toEqual([
      { prompt: 'abc\u001e', completion: 'Y' },
      { prompt: 'abcd\u001e', completion: 'Y' },
      { prompt: 'e\u001e', completion: 'N' },
    ]);
    expect(tokenQueries([5, 6, 7], [9])).toEqual([[5, 9], [5, 6, 9], [5, 6, 7, 9]]);
  });

  it('refuses text whose token prefixes do not re-encode (a multi-byte character), naming the line', () => {
    expect(() => tokenJudgeLines([{ prompt: 'a', completion: 'b', label: 0 }, { prompt: 'x', completion: 'é', label: 1 }], tok, TOKEN_JUDGE)).toThrow(/judge data line 2:.*byte tokenizer on ASCII/);
  });

  it('labels must be one token', () => {
    expect(labelId(tok, 'Y')).toBe(89);
    expect(() => labelId(tok, 'yes')).toThrow(/"yes" is 3 tokens/);
  });
});

describe('judgeScores', () => {
  it('is logit(yes) − logit(no) at each query\'s last position, whatever the batching; long queries keep their last nCtx tokens', () => {
    const m = tinyModel(3); // vocab 23, nCtx 8
    try {
      const queries = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11], [2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [7, 7, 7, 7, 7]];
      const alone = queries.map((q) =>
        tf.tidy(() => {
          const ids = q.slice(-8);
          const v = m.forward(tf.tensor2d([ids], [1, ids.length], 'int32')).logits.arraySync()[0]!.at(-1)!;
          return v[4]! - v[9]!;
        }),
      );
      const before = tf.memory().numTensors;
      for (const bs of [1, 2, 4, 32]) {
        const s = judgeScores(m, queries, 4, 9, bs);
        s.forEach((v, i) => expect(v).toBeCloseTo(alone[i]!, 4));
      }
      expect(tf.memory().numTensors).toBe(before);
      expect(() => judgeScores(m, [[1], []], 4, 9)).toThrow(/judge query 1 is empty/);
    } finally {
      m.dispose();
    }
  });
});
