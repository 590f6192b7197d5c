import { describe, expect, it } from 'vitest';
import { gridCombinations, pointKey, randomSamples, shortNames, sweepPoints, yamlText } from '../../../src/distributed/sweep/points.ts';
import { splitValues } from '../../../src/distributed/sweep/plan.ts';

describe('sweep points', () => {
  it('a grid is the Cartesian product, the first path varying slowest', () => {
    expect(gridCombinations({ a: [1, 2], b: ['x', 'y', 'z'] })).toEqual([
      { a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'z' },
      { a: 2, b: 'x' }, { a: 2, b: 'y' }, { a: 2, b: 'z' },
    ]);
    expect(gridCombinations({})).toEqual([{}]);
  });

  it('points carry labels, --set strings and an identity that ignores path order', () => {
    const pts = sweepPoints({ grid: { 'trainer.optimizer.lr': [1e-3, 3e-4], 'trainer.optimizer.kind': ['adamw'] }, parallel: 1 });
    expect(pts.map((p) => p.label)).toEqual(['lr=0.001,kind=adamw', 'lr=0.0003,kind=adamw']);
    expect(pts[1]!.sets).toEqual(['trainer.optimizer.lr=0.0003', 'trainer.optimizer.kind=adamw']);
    expect(pts[1]!.index).toBe(1);
    const swapped = sweepPoints({ grid: { 'trainer.optimizer.kind': ['adamw'], 'trainer.optimizer.lr': [3e-4] }, parallel: 1 });
    expect(swapped[0]!.key).toBe(pts[1]!.key);
    expect(pointKey({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('random samples are seeded: the same seed draws the same points, another seed others', () => {
    const space = { lr: { log_uniform: [1e-4, 1e-2] as [number, number] }, wd: { uniform: [0, 0.1] as [number, number] }, bs: { choice: [4, 8, 16] }, k: { int_uniform: [1, 3] as [number, number] } };
    const a = randomSamples({ samples: 20, seed: 7, space });
    expect(randomSamples({ samples: 20, seed: 7, space })).toEqual(a);
    expect(randomSamples({ samples: 20, seed: 8, space })).not.toEqual(a);
    for (const s of a) {
      expect(s.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(s.lr as number).toBeLessThanOrEqual(1e-2);
      expect(String(s.lr).replace(/^0\.0*|e.*$|\./g, '').length).toBeLessThanOrEqual(4); // 4 significant digits
      expect([4, 8, 16]).toContain(s.bs);
      expect([1, 2, 3]).toContain(s.k);
    }
    // Both ends of an int range are drawn, and log_uniform spreads over the decades.
    expect(new Set(a.map((s) => s.k))).toEqual(new Set([1, 2, 3]));
    expect(a.some((s) => (s.lr as number) < 1e-3) && a.some((s) => (s.lr as number) > 1e-3)).toBe(true);
  });

  it('each random sample is combined with every grid point, and duplicate draws are one point', () => {
    const pts = sweepPoints({ grid: { 'run.seed': [0, 1] }, random: { samples: 3, seed: 1, space: { 'trainer.optimizer.lr': { choice: [0.1] } } }, parallel: 1 });
    expect(pts.map((p) => p.values)).toEqual([{ 'run.seed': 0, 'trainer.optimizer.lr': 0.1 }, { 'run.seed': 1, 'trainer.optimizer.lr': 0.1 }]);
  });

  it('short names fall back to the whole path where two would clash', () => {
    expect(shortNames(['trainer.optimizer.lr', 'rl.kl', 'gradients.0.max_norm'])).toEqual({ 'trainer.optimizer.lr': 'lr', 'rl.kl': 'kl', 'gradients.0.max_norm': 'max_norm' });
    expect(shortNames(['a.lr', 'b.lr'])).toEqual({ 'a.lr': 'a.lr', 'b.lr': 'b.lr' });
  });

  it('values become --set text that reads back as the same value', () => {
    expect(yamlText(3e-4)).toBe('0.0003');
    expect(yamlText(1e-7)).toBe('1e-7');
    expect(yamlText('adamw')).toBe('adamw');
    expect(yamlText('1')).toBe('"1"'); // bare it would read as a number
    expect(yamlText('a: b')).toBe('"a: b"');
    expect(yamlText([0.9, 0.95])).toBe('[0.9,0.95]');
    expect(yamlText(Infinity)).toBe('.inf');
    expect(yamlText(true)).toBe('true');
  });

  it('--grid values split at commas outside brackets and quotes', () => {
    expect(splitValues('1e-3, 3e-4')).toEqual(['1e-3', '3e-4']);
    expect(splitValues('[0.9,0.95],[0.9,0.99]')).toEqual(['[0.9,0.95]', '[0.9,0.99]']);
    expect(splitValues('"a,b",c,{x: 1, y: 2}')).toEqual(['"a,b"', 'c', '{x: 1, y: 2}']);
  });
});
