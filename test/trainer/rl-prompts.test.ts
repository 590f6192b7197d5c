import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { checkPromptRoom } from '../../src/trainer/rl.ts';

describe('RL prompts and the context', () => {
  const tok = createTokenizer('byte');
  it('a prompt longer than n_ctx − max_new_tokens is an error naming the file, the count and the longest', () => {
    const prompts = [{ prompt: 'abc' }, { prompt: 'abcdef' }, { prompt: 'abcde' }];
    expect(() => checkPromptRoom(prompts, tok, 8, 4, 'p.jsonl')).toThrow(
      'p.jsonl: 2 prompts are longer than the 4 tokens a rollout leaves (model n_ctx 8 − trainer.max_new_tokens 4); the longest, record 2, is 6 tokens',
    );
  });
  it('prompts that fit pass', () => {
    expect(() => checkPromptRoom([{ prompt: 'abcd' }], tok, 8, 4, 'p.jsonl')).not.toThrow();
  });
});
