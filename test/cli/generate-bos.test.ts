import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bonsai } from '../helpers/cli.ts';
import { tempDir } from '../helpers/recipes.ts';

// The done-when case of special tokens: a tiny Llama-3.2-style directory (the llama3 fixture's
// seeded weights and real layout, its tokenizer.json post-processor as Llama-3.2 ships it:
// Sequence[ByteLevel, TemplateProcessing "<BOS> $A"]). References by scripts/make-bos-golden.py.
const golden = JSON.parse(readFileSync('test/fixtures/bos/llama3.json', 'utf8')) as {
  prompt: string;
  bos_id: number;
  greedy_with_bos: number[];
  greedy_without_bos: number[];
};

/** The llama3 fixture with Llama-3.2's post-processor and no add_bos_token in tokenizer_config.json. */
function llama32Dir(root: string): string {
  const dir = join(root, 'llama32');
  cpSync('test/fixtures/hf/llama3', dir, { recursive: true });
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const bos = '<|endoftext|>';
  tok.post_processor = {
    type: 'Sequence',
    processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { [bos]: { id: bos, ids: [golden.bos_id], tokens: [bos] } },
      },
    ],
  };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok));
  const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  delete cfg.add_bos_token;
  delete cfg.add_eos_token;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
  return dir;
}

describe('bonsai generate feeds the BOS the tokenizer adds', () => {
  const root = tempDir('bonsai-bos-');
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const run = (dir: string) => {
    const r = bonsai(['generate', '--hf', dir, '--prompt', golden.prompt, '--temperature', '0', '--max-new-tokens', '8', '--json', '--backend', 'cpu']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    return (JSON.parse(r.stdout.trim()) as { ids: number[] }).ids;
  };
  const upToEos = (ids: number[]) => {
    const stop = ids.findIndex((id) => id === 280 || id === 282);
    return stop < 0 ? ids : ids.slice(0, stop + 1);
  };

  it('a Llama-3.2-style directory generates what the BOS-prefixed PyTorch forward generates', () => {
    expect(golden.greedy_with_bos).not.toEqual(golden.greedy_without_bos); // the BOS changes the answer
    expect(run(llama32Dir(root))).toEqual(upToEos(golden.greedy_with_bos));
  });

  it('a tokenizer that adds nothing (add_bos_token false) still feeds the text alone', () => {
    expect(run('test/fixtures/hf/llama3')).toEqual(upToEos(golden.greedy_without_bos));
  });
});
