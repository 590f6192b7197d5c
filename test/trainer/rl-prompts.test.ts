import { beforeAll, describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { promptRoomProblem } from '../../src/trainer/kinds/rl-prompts.ts';
import { rollout } from '../../src/trainer/rollout.ts';
import { Rng } from '../../src/util/rng.ts';
import { tinyConfig, tinyModel, useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

describe('RL prompts and the context', () => {
  const tok = createTokenizer('byte');
  it('a prompt longer than n_ctx − max_new_tokens is an error naming the file, the count and the longest', () => {
    const prompts = [{ prompt: 'abc' }, { prompt: 'abcdef' }, { prompt: 'abcde' }];
    expect(promptRoomProblem(prompts, tok, 8, 4, 'p.jsonl')).toBe(
      'p.jsonl: 2 prompts are longer than the 4 tokens a rollout leaves (model n_ctx 8 − trainer.max_new_tokens 4); the longest, record 2, is 6 tokens',
    );
  });
  it('prompts that fit pass', () => {
    expect(promptRoomProblem([{ prompt: 'abcd' }], tok, 8, 4, 'p.jsonl')).toBeUndefined();
  });
  it('the library rollout() refuses a prompt that does not fit, instead of cutting it', () => {
    const policy = tinyModel(1, { ...tinyConfig, vocabSize: 257, nCtx: 8 });
    const o = { G: 2, maxNewTokens: 4, temperature: 1, rng: new Rng(0) };
    expect(() => rollout(policy, tok, [{ prompt: 'abcd' }, { prompt: 'abcdef' }], o)).toThrow(
      'rollout: prompt 1 is 6 tokens, longer than the 4 a rollout leaves (n_ctx 8 − maxNewTokens 4)',
    );
    const { batch } = rollout(policy, tok, [{ prompt: 'abcd', answer: 'x' }, { prompt: 'ab' }], o);
    expect(batch.promptLens).toEqual([4, 4, 2, 2]); // whole prompts, never cut
    expect(batch.prompts).toEqual(['abcd', 'abcd', 'ab', 'ab']);
    expect(batch.answers).toEqual(['x', 'x', undefined, undefined]);
    policy.dispose();
  });
});
