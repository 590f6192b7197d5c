import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';

/** Runs `bonsai` with every @tensorflow import made to fail. */
const FORBID = { NODE_OPTIONS: `--import=${join(import.meta.dirname, '..', 'helpers', 'forbid-tfjs.mjs')}` };

describe('bonsai recipe validate on bad input', () => {
  it('lists five semantic and two type errors at once, with file:line:col, no stack, no backend', () => {
    const started = performance.now();
    const r = bonsai(['recipe', 'validate', 'test/fixtures/recipes/bad-input.yaml'], { env: FORBID });
    const seconds = (performance.now() - started) / 1000;
    expect(r.code).toBe(1);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stderr).not.toMatch(/forbidden import/);
    const lines = r.stderr.split('\n').filter((l) => /bad-input\.yaml:\d+:\d+: /.test(l)).map((l) => l.trim().replace('test/fixtures/recipes/bad-input.yaml:', ''));
    expect(lines).toEqual([
      '3:8: run.seed: must be >= 0, got -3',
      '15:16: trainer.stop.1: "\\n\\n" is 2 tokens with the byte tokenizer; each stop text must be one token',
      expect.stringMatching(/^21:5: gradients\.0\.params: "blocks\.0\.atn\.\*" matches no parameter; did you mean "blocks\.0\.attn\.\*"/),
      '23:21: interventions.0.hook: unknown hook point "blocks.0.hook_resid_pots"; did you mean "blocks.0.hook_resid_post"?',
      expect.stringMatching(/^24:50: interventions\.1\.directions: .*width 32 .*but hook blocks\.1\.mlp\.hook_post has width 128/),
      expect.stringMatching(/^26:5: freeze\.0: "blocks\.7\.\*" matches no parameter; did you mean "blocks\.0\.\*", "blocks\.1\.\*"/),
      '27:15: checkpoint.keep: expected number, got string "lots"',
    ]);
    expect(r.stderr).toMatch(/recipe has 7 errors/);
    // About a second of work; the bound leaves room for a machine shared with other jobs.
    expect(seconds).toBeLessThan(15);
  });

  it.each([['train'], ['probe', 'train'], ['sweep'], ['serve-reward'], ['ray', 'submit', '--address', 'http://127.0.0.1:9']])(
    'bonsai %s validates the same way first, before loading a backend',
    (...command: string[]) => {
      const r = bonsai([...command, 'test/fixtures/recipes/bad-input.yaml'], { env: FORBID });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/recipe has 7 errors/);
      expect(r.stderr).not.toMatch(/forbidden import/);
      expect(hasStackTrace(r.stderr)).toBe(false);
    },
  );

  it('the guard is real: a command that loads the backend trips it', () => {
    const r = bonsai(['train', 'recipes/quickstart.yaml', '--set', 'tracking.uri=none'], { env: FORBID });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden import of @tensorflow\/tfjs/);
  });

  it('a valid recipe validates without loading the backend', () => {
    const r = bonsai(['recipe', 'validate', 'recipes/quickstart.yaml'], { env: FORBID });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
