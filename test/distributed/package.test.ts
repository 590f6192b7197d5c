import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BonsaiError } from '../../src/errors.ts';
import { ignoreMatcher } from '../../src/distributed/ignore.ts';
import { listShippedFiles, maxPackageBytes, packWorkingDir } from '../../src/distributed/package.ts';
import { tempDir } from '../helpers/recipes.ts';

const HAS_GIT = spawnSync('git', ['--version']).status === 0;

function tree(files: Record<string, string | Buffer>): string {
  const dir = tempDir('bonsai-pkg-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const PROJECT = {
  'package.json': '{"name":"bonsai"}',
  'src/a.ts': 'export const a = 1;',
  'src/runs/keep.ts': 'nested runs/ folders are sources, not outputs',
  'recipes/r.yaml': 'run: {}',
  'node_modules/x/index.js': 'dep',
  'src/node_modules/y.js': 'nested dep',
  'runs/r/ckpt.bin': 'out',
  'mlruns/0/meta.yaml': 'out',
  'out/custom/ckpt.bin': 'recipe out_dir',
  'notes.log': 'ignored',
  'build/keep.txt': 'ignored folder',
  'build/important.txt': 'ignored folder, negation cannot reach inside',
  '.gitignore': '*.log\nbuild/\n!important.txt\n',
};
const SHIPPED = ['.gitignore', 'package.json', 'recipes/r.yaml', 'src/a.ts', 'src/runs/keep.ts'];

describe('the shipped working directory', () => {
  it('leaves out dependencies, outputs, the out_dir and what .gitignore ignores (no git)', () => {
    const dir = tree(PROJECT);
    expect(listShippedFiles(dir, ['/out/custom/'])).toEqual(SHIPPED);
  });

  it.skipIf(!HAS_GIT)('asks git inside a work tree, and leaves out .git', () => {
    const dir = tree(PROJECT);
    expect(spawnSync('git', ['init', '-q'], { cwd: dir }).status).toBe(0);
    spawnSync('git', ['add', 'src/a.ts'], { cwd: dir });
    writeFileSync(join(dir, 'src', '.gitignore'), 'generated.ts\n');
    writeFileSync(join(dir, 'src', 'generated.ts'), 'nested .gitignore: git honours it');
    expect(listShippedFiles(dir, ['/out/custom/'])).toEqual([...SHIPPED.slice(0, 3), 'src/.gitignore', ...SHIPPED.slice(3)]);
  });

  it('names the package by its content: same tree, same URI; a changed file, a new one', () => {
    const dir = tree(PROJECT);
    const a = packWorkingDir(dir);
    expect(a.uri).toMatch(/^gcs:\/\/_ray_pkg_[0-9a-f]{32}\.zip$/);
    expect(packWorkingDir(dir).zip.equals(a.zip)).toBe(true);
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 2;');
    expect(packWorkingDir(dir).uri).not.toBe(a.uri);
  });

  it('refuses a package over the limit, naming the largest files and how to leave them out', () => {
    const dir = tree({ ...PROJECT, 'data/big.bin': randomBytes(5000) });
    const err = (() => {
      try {
        packWorkingDir(dir, { maxBytes: 2000 });
      } catch (e) {
        return e as BonsaiError;
      }
    })();
    expect(err).toBeInstanceOf(BonsaiError);
    expect(err!.message).toMatch(/packs to \d+ bytes, over the 2000 bytes limit/);
    expect(err!.hint).toMatch(/largest files: data\/big\.bin/);
    expect(err!.hint).toContain('ray.excludes');
    expect(packWorkingDir(dir, { maxBytes: 2000, excludes: ['data/'] }).files).not.toContain('data/big.bin');
  });

  it('reads the limit from BONSAI_RAY_MAX_PACKAGE_BYTES and refuses nonsense there', () => {
    expect(maxPackageBytes({})).toBe(512 * 1024 * 1024);
    expect(maxPackageBytes({ BONSAI_RAY_MAX_PACKAGE_BYTES: '1000' })).toBe(1000);
    expect(() => maxPackageBytes({ BONSAI_RAY_MAX_PACKAGE_BYTES: '1e3x' })).toThrow(BonsaiError);
  });
});

describe('.gitignore matcher', () => {
  it('follows git for anchors, folders, globs and negation', () => {
    const ignored = ignoreMatcher(['# comment', '/top.txt', 'logs/', '*.tmp', '!keep.tmp', 'a/**/z', 'doc/*.md']);
    expect(ignored('top.txt')).toBe(true);
    expect(ignored('sub/top.txt')).toBe(false); // anchored at the root
    expect(ignored('logs/x')).toBe(true);
    expect(ignored('deep/logs/x')).toBe(true);
    expect(ignored('logs')).toBe(false); // a file named logs: the rule is for folders
    expect(ignored('logs', true)).toBe(true);
    expect(ignored('x/y.tmp')).toBe(true);
    expect(ignored('x/keep.tmp')).toBe(false);
    expect(ignored('a/z')).toBe(true);
    expect(ignored('a/b/c/z')).toBe(true);
    expect(ignored('doc/readme.md')).toBe(true);
    expect(ignored('doc/sub/readme.md')).toBe(false); // * stops at a slash
  });
});
