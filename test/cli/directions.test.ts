import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir, writeTinyRecipe } from '../helpers/recipes.ts';

describe('bonsai directions', () => {
  it('computes a mean-difference direction, reports separation, and refuses a bad hook without a stack', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 2 });
    expect(bonsai(['train', recipe, '--set', 'backend=cpu']).code).toBe(0);
    const pos = join(dir, 'pos.txt');
    const neg = join(dir, 'neg.txt');
    writeFileSync(pos, 'aaaa bbbb '.repeat(30));
    writeFileSync(neg, '0123 4567 '.repeat(30));
    const out = join(dir, 'dir.json');
    const args = ['directions', '--checkpoint', join(dir, 'out'), '--hook', 'blocks.0.hook_resid_post', '--backend', 'cpu'];
    const r = bonsai([...args, '--method', 'mean-diff', '--positive', pos, '--negative', neg, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/separation: d′ [\d.]+, midpoint accuracy [\d.]+%/);
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file).toMatchObject({ kind: 'activation', hook: 'blocks.0.hook_resid_post', width: 16 });
    expect(file.vectors[0]).toHaveLength(16);
    const bad = bonsai(['directions', '--checkpoint', join(dir, 'out'), '--hook', 'blocks.7.hook_resid_post', '--method', 'mean-diff', '--out', out, '--backend', 'cpu']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown hook point "blocks\.7\.hook_resid_post"/);
    expect(hasStackTrace(bad.stderr)).toBe(false);
  });

  it('--method readout writes the unembedding direction of a token; a steer recipe that uses it at positions past n_ctx is refused at its line', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 2 });
    expect(bonsai(['train', recipe, '--set', 'backend=cpu']).code).toBe(0);
    const out = join(dir, 'readout.json');
    const r = bonsai(['directions', '--checkpoint', join(dir, 'out'), '--hook', 'blocks.0.hook_resid_post', '--backend', 'cpu', '--method', 'readout', '--token', 'Z', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/readout of "Z" \(token 90\): \|direction\| [\d.]+/);
    expect(JSON.parse(readFileSync(out, 'utf8')).stats).toMatchObject({ method: 'readout', token: 'Z' });
    writeFileSync(recipe, `${readFileSync(recipe, 'utf8')}\ninterventions: [ { kind: steer, hook: blocks.0.hook_resid_post, directions: ${out}, coef: 2, positions: [3, 99] } ]\n`);
    const bad = bonsai(['train', recipe, '--set', 'backend=cpu']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/tiny\.yaml:\d+:\d+: interventions\.0\.positions: positions 99 are past the model's context \(n_ctx 16: positions 0…15\)/);
    const none = bonsai(['directions', '--checkpoint', join(dir, 'out'), '--hook', 'blocks.0.hook_resid_post', '--backend', 'cpu', '--method', 'readout', '--out', out]);
    expect(none.stderr).toMatch(/--method readout needs --token TEXT/);
    expect(hasStackTrace(none.stderr)).toBe(false);
  });
});
