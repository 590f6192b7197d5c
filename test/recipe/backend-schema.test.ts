import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../src/recipe/index.ts';
import { withThreads } from '../../src/recipe/backend-schema.ts';
import { errorLines, VALID } from './helpers.ts';

const withBackend = (backend: string) => `${backend}\n${VALID}`;

describe('the backend section', () => {
  it('is a name or a mapping with kind and threads', () => {
    expect(parseRecipe(withBackend('backend: wasm'), 'r.yaml').backend).toBe('wasm');
    expect(parseRecipe(VALID, 'r.yaml').backend).toBe('auto');
    expect(parseRecipe(withBackend('backend: { kind: wasm, threads: 1 }'), 'r.yaml').backend).toEqual({ kind: 'wasm', threads: 1 });
    expect(parseRecipe(withBackend('backend: { threads: 1 }'), 'r.yaml').backend).toEqual({ kind: 'auto', threads: 1 });
  });

  it('threads: 0 is a located error', () => {
    expect(errorLines(() => parseRecipe(withBackend('backend: { kind: wasm, threads: 0 }'), 'r.yaml'))).toEqual(['r.yaml:1:24: backend.threads: must be > 0, got 0']);
  });

  it('threads above the CPUs this machine has is a located error saying how many it has', () => {
    const n = os.availableParallelism() + 1;
    expect(errorLines(() => parseRecipe(withBackend(`backend:\n  kind: wasm\n  threads: ${n}`), 'r.yaml'))).toEqual([
      expect.stringMatching(new RegExp(`^r\\.yaml:3:3: backend\\.threads: this machine has ${n - 1} CPUs? \\(\\d+ physical cores?\\); ask for at most ${n - 1}$`)),
    ]);
  });

  it('a misspelt kind or key in the mapping is named, with the nearest valid one', () => {
    expect(errorLines(() => parseRecipe(withBackend('backend: { kind: wsam, thread: 1 }'), 'r.yaml'))).toEqual([
      'r.yaml:1:12: backend.kind: expected one of auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu, got string "wsam"; did you mean "wasm"?',
      'r.yaml:1:24: backend.thread: unknown key; did you mean "threads"?',
    ]);
  });

  it('--threads replaces the recipe\'s own count, keeping its kind', () => {
    expect(withThreads('cpu', 2)).toEqual({ kind: 'cpu', threads: 2 });
    expect(withThreads({ kind: 'wasm', threads: 1 }, 2)).toEqual({ kind: 'wasm', threads: 2 });
    expect(withThreads('wasm', undefined)).toBe('wasm');
  });
});
