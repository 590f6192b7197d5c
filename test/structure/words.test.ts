// The repo speaks of the project alone: README.md and docs/ name dates, commits and machines
// ("measured 2026-12-02 at commit 31a0a27 on 2 cores"), never how the project was made.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** The grep (`grep -rniE "session [0-9]|…" README.md docs`), plus sessions counted or ordered in other words. */
const MAKING = /session [0-9]|session-[0-9]|this session|worktree|helpers?'|the helper|other helpers|by helpers|\b(other|earlier|previous|next|later) sessions?\b/i;

function markdown(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) markdown(p, out);
    else if (p.endsWith('.md')) out.push(p);
  }
  return out;
}

/** Every line of `files` that speaks of the project's making, as `file:line: text`. */
function making(files: string[]): string[] {
  return files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, i) => (MAKING.test(line) ? [`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe('README.md and docs/', () => {
  it('name dates, commits and machines, never sessions, helpers or worktrees', () => {
    const files = [join(ROOT, 'README.md'), ...markdown(join(ROOT, 'docs'))];
    expect(files.length).toBeGreaterThan(20);
    expect(making(files)).toEqual([]);
  });

  it('the pattern catches what it is for', () => {
    for (const s of ['re-run in session 5’s final state', 'Measured in session 4', 'in this session', "other helpers' jobs", 'a git worktree', 'earlier sessions saw']) {
      expect(MAKING.test(s.replace('’', "'")), s).toBe(true);
    }
    expect(MAKING.test('measured 2026-12-02 at commit 31a0a27 on 2 cores')).toBe(false);
  });
});
