import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { latestCheckpoint, loadCheckpoint } from '../../src/models/checkpoint.ts';
import { train } from '../../src/trainer/train.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';

beforeAll(useCpu);

const LETTERS = 'abcdef';
/** Task A (`p<x>=` → k) and task B (`q<x>=` → m): learning B through the shared "=" forgets A. */
function writeTasks(dir: string): { a: string; aValid: string; aTest: string; b: string } {
  const write = (name: string, lines: Array<{ prompt: string; completion: string }>) => {
    const path = join(dir, name);
    writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return path;
  };
  const task = (p: string, c: string, letters: string) => [...letters].map((x) => ({ prompt: `${p}${x}=`, completion: c }));
  return {
    a: write('a.jsonl', Array.from({ length: 8 }, () => task('p', 'k', LETTERS)).flat()),
    aValid: write('a_valid.jsonl', task('p', 'k', 'abc')),
    aTest: write('a_test.jsonl', task('p', 'k', 'def')),
    b: write('b.jsonl', Array.from({ length: 8 }, () => task('q', 'm', LETTERS)).flat()),
  };
}

/** The model that learnt A (trained once for the file). */
let base: string;
beforeAll(async () => {
  const dir = tempDir();
  const t = writeTasks(dir);
  base = (await train(tinyRecipe(dir, { steps: 30, train: `{ format: jsonl, path: ${t.a} }` }))).checkpoint!;
});

/** A recipe that fine-tunes A's model on B with a guarded attribution freeze. */
function guardedRecipe(dir: string, guard = 'max_drop: 0.05, every: 2, grow_percent: 10') {
  const t = writeTasks(dir);
  return tinyRecipe(dir, {
    steps: 8,
    every: 1,
    train: `{ format: jsonl, path: ${t.b} }`,
    overrides: [`model.init=${JSON.stringify({ checkpoint: base })}`],
    extra: `freeze: [ { attribution: { data: { format: jsonl, path: ${t.a} }, top_percent: 10, batches: 2, guard: { data: { format: jsonl, path: ${t.aValid} }, ${guard}, test: [ { format: jsonl, path: ${t.aTest} } ] } } } ]`,
  });
}

describe('the freeze guard', () => {
  it('grows the frozen set when the held-out split of the old task drops, and every frozen entry ends at its starting value', async () => {
    const dir = tempDir();
    const recipe = guardedRecipe(dir);
    const start = loadCheckpoint((recipe.model.init as { checkpoint: string }).checkpoint).weights;
    const lines: string[] = [];
    const before = tf.memory().numTensors;
    await train(recipe, { onLog: (l) => lines.push(l) });
    expect(tf.memory().numTensors).toBe(before);
    const grew = lines.filter((l) => l.startsWith('freeze guard before step'));
    expect(lines.some((l) => /^freeze guard: held-out accuracy 100\.0% at the start; more is frozen whenever it falls under 95\.0%$/.test(l))).toBe(true);
    expect(grew.length).toBeGreaterThan(0);
    expect(grew[0]).toMatch(/held-out accuracy \d+\.\d% < 95\.0%; froze \d+ more entries \(top \d+% in all, set back to their starting values\); now \d+\.\d%/);
    expect(lines).toContain('freeze/verified: every frozen entry is bit-identical');
    // Entries frozen by growth went back to the base's values: some tensor ends with more entries equal to the start than a plain fine-tune leaves.
    const end = loadCheckpoint(latestCheckpoint(recipe.run.out_dir)!).weights;
    const same = (w: Map<string, Float32Array>) => [...w].reduce((n, [p, v]) => n + v.filter((x, i) => x === start.get(p)![i]).length, 0);
    const plainDir = tempDir();
    const plain = guardedRecipe(plainDir, 'max_drop: 1, every: 2, grow_percent: 10');
    await train(plain);
    expect(same(end)).toBeGreaterThan(same(loadCheckpoint(latestCheckpoint(plain.run.out_dir)!).weights));
  });

  it('a guarded run stopped and resumed ends with the straight run\'s weights, bit for bit', async () => {
    const straight = guardedRecipe(tempDir());
    await train(straight);
    const split = guardedRecipe(tempDir());
    await train(split, { stopAfter: 5 });
    const lines: string[] = [];
    await train(split, { resume: true, onLog: (l) => lines.push(l) });
    expect(lines).toContain('freeze: the selection this run started with, read back from out_dir');
    const a = loadCheckpoint(latestCheckpoint(straight.run.out_dir)!).weights;
    const b = loadCheckpoint(latestCheckpoint(split.run.out_dir)!).weights;
    for (const [path, w] of a) expect(Buffer.from(b.get(path)!.buffer).equals(Buffer.from(w.buffer)), path).toBe(true);
  });

  it('refuses, at its line, a guard split that shares items with the test or is empty, and a second guard', () => {
    const dir = tempDir();
    const t = writeTasks(dir);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n');
    const guarded = (data: string, test: string) => `{ attribution: { data: { format: jsonl, path: ${t.a} }, top_percent: 10, guard: { data: { format: jsonl, path: ${data} }, test: [ { format: jsonl, path: ${test} } ] } } }`;
    expect(() => tinyRecipe(dir, { extra: `freeze: [ ${guarded(t.aValid, t.a)} ]` })).toThrow(
      new RegExp(`tiny\\.yaml:\\d+:\\d+: freeze\\.0\\.attribution\\.guard\\.data: ${t.aValid.replace(/[.]/g, '\\.')} shares 3 items with test\\[0\\] ${t.a.replace(/[.]/g, '\\.')}, e\\.g\\. "pa=" \\(line 1 here, line 1 there\\)`),
    );
    expect(() => tinyRecipe(dir, { extra: `freeze: [ ${guarded(empty, t.aTest)} ]` })).toThrow(/tiny\.yaml:\d+:\d+: freeze\.0\.attribution\.guard\.data: .*empty\.jsonl holds no items/);
    expect(() => tinyRecipe(dir, { extra: `freeze: [ ${guarded(t.aValid, t.aTest)}, ${guarded(t.aValid, t.aTest)} ]` })).toThrow(/freeze\.1\.attribution\.guard: only one attribution selector may have a guard \(freeze\[0\] has one\)/);
  });
});
