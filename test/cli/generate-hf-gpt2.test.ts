import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';

const FIXTURE = 'test/fixtures/gpt2-tiny';

describe('bonsai generate --hf-gpt2', () => {
  it("continues a prompt greedily with PyTorch's most likely next token", () => {
    // golden.json holds PyTorch's logits for the prompt; its vocab_ids include each argmax.
    const golden = JSON.parse(readFileSync(`${FIXTURE}/golden.json`, 'utf8')) as { text: string; vocab_ids: number[]; logits: number[][][] };
    const last = golden.logits[0]!.at(-1)!;
    const next = golden.vocab_ids[last.indexOf(Math.max(...last))]!;
    const r = bonsai(['generate', '--hf-gpt2', FIXTURE, '--prompt', golden.text, '--max-new-tokens', '1', '--temperature', '0', '--backend', 'cpu']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${golden.text}${createTokenizer('gpt2').decode([next])}\n`);
  });

  it('wants exactly one of --checkpoint and --hf-gpt2, and reports a bad folder plainly', () => {
    const both = bonsai(['generate', '--hf-gpt2', FIXTURE, '--checkpoint', FIXTURE, '--prompt', 'x']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/one of --checkpoint, --hf or --hf-gpt2/);
    const bad = bonsai(['generate', '--hf-gpt2', 'test/fixtures/recipes', '--prompt', 'x', '--backend', 'cpu']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/config\.json: missing/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
  });
});
