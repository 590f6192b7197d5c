import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { encodeText, rolloutBatchOf, splitQuery } from '../../src/server/texts.ts';

const tok = createTokenizer('byte');

describe('texts → rollout batch', () => {
  it('splits an OpenRLHF query after its prompt; padding before the prompt is dropped; no prompt → all completion', () => {
    expect(splitQuery('Q: a? b', 'Q: a?')).toEqual({ prompt: 'Q: a?', completion: ' b' });
    expect(splitQuery('<pad>Q: a? b</s>', 'Q: a?')).toEqual({ prompt: 'Q: a?', completion: ' b</s>' });
    expect(splitQuery('whole', undefined)).toEqual({ prompt: '', completion: 'whole' });
    expect(splitQuery('abc', 'x')).toBeUndefined();
  });

  it('lays rows out as a rollout does: prompt then completion, right-padded, an empty prompt as EOS, loss mask on the completion', () => {
    const b = rolloutBatchOf([encodeText(tok, { prompt: 'ab', completion: 'c' }), encodeText(tok, { prompt: '', completion: 'xy', answer: 'xy' })]);
    expect(b.T).toBe(3);
    expect(Array.from(b.ids)).toEqual([97, 98, 99, tok.eosId, 120, 121]);
    expect(b.promptLens).toEqual([2, 1]);
    expect(b.completions).toEqual([[99], [120, 121]]);
    expect(b.texts).toEqual(['c', 'xy']);
    expect(b.answers).toEqual([undefined, 'xy']);
    expect(Array.from(b.mask)).toEqual([0, 1, 1, 1]); // target t predicts ids[t+1]
  });
});
