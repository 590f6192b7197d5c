import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';

describe('bonsai recipe', () => {
  it('validate reports every error of a broken recipe at once, with line numbers, and exits 1', () => {
    const r = bonsai(['recipe', 'validate', 'test/fixtures/recipes/broken.yaml']);
    expect(r.code).toBe(1);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const located = r.stderr.split('\n').filter((l) => /broken\.yaml:\d+:\d+/.test(l));
    expect(located.length).toBeGreaterThanOrEqual(10);
    expect(r.stderr).toMatch(/broken\.yaml:3:\d+: run\.seed/);
    expect(r.stderr).toMatch(/broken\.yaml:19:3: trainer\.optimzer: unknown key; did you mean "optimizer"/);
    expect(r.stderr).toMatch(/recipe has 12 errors/);
  });

  it('validate accepts the quickstart', () => {
    const r = bonsai(['recipe', 'validate', 'recipes/quickstart.yaml']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/quickstart.yaml: ok/);
    expect(r.code).toBe(0);
  });

  it('--set on a path that does not exist is an error naming it', () => {
    const r = bonsai(['recipe', 'validate', 'recipes/quickstart.yaml', '--set', 'trainer.stepz=5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--set trainer\.stepz=5.*stepz/);
    expect(r.stderr).toMatch(/did you mean "steps"/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('schema prints a JSON Schema', () => {
    const r = bonsai(['recipe', 'schema']);
    const schema = JSON.parse(r.stdout);
    // job: edit and job: sae recipes first (if/then), then the training recipe.
    expect(schema.then.properties.edit).toBeDefined();
    expect(schema.else.then.properties.sae).toBeDefined();
    expect(schema.else.else.properties.trainer).toBeDefined();
  });

  it('a missing recipe file is a clear error', () => {
    const r = bonsai(['recipe', 'validate', 'nope.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope\.yaml/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('bonsai', () => {
  it('--help everywhere', () => {
    for (const args of [['--help'], ['train', '--help'], ['generate', '--help'], ['recipe', '--help']]) {
      const r = bonsai(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^usage: bonsai/);
    }
  });

  it('an unknown command or flag is a usage error, not a stack trace', () => {
    expect(bonsai(['trian']).code).toBe(2);
    const r = bonsai(['train', 'recipes/quickstart.yaml', '--frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/frobnicate/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
