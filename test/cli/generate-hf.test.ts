import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';

const ROOT = 'test/fixtures/hf';

describe('bonsai generate --hf DIR --json', () => {
  it.each(['llama3', 'mistral', 'qwen3', 'pythia'])("%s: greedy ids equal the PyTorch reference's, stopping at an end-of-sequence id", (name) => {
    const golden = JSON.parse(readFileSync(join(ROOT, name, 'golden.json'), 'utf8')) as { text: string; greedy_new_ids: number[] };
    const tokCfg = JSON.parse(readFileSync(join(ROOT, name, 'generation_config.json'), 'utf8')) as { eos_token_id?: number | number[] };
    const eos = [tokCfg.eos_token_id ?? []].flat();
    const r = bonsai(['generate', '--hf', join(ROOT, name), '--prompt', golden.text, '--max-new-tokens', String(golden.greedy_new_ids.length), '--temperature', '0', '--json', '--backend', 'cpu']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { ids: number[]; text: string };
    const stopAt = golden.greedy_new_ids.findIndex((id) => eos.includes(id));
    expect(out.ids).toEqual(stopAt < 0 ? golden.greedy_new_ids : golden.greedy_new_ids.slice(0, stopAt + 1));
    expect(typeof out.text).toBe('string');
  });

  it('a directory without tokenizer.json is one message naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bonsai-hf-'));
    try {
      cpSync(join(ROOT, 'qwen2'), join(dir, 'm'), { recursive: true });
      rmSync(join(dir, 'm', 'tokenizer.json'));
      const r = bonsai(['generate', '--hf', join(dir, 'm'), '--prompt', 'the cat', '--json', '--backend', 'cpu']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/tokenizer\.json: missing/);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(r.stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
