// The import graph of src/ (scripts/import-graph.ts reads it): no circles, and no arrow from
// a lower folder back up to the trainer or the cluster code.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, LOWER_FOLDERS, upwardArrows } from '../../scripts/import-graph.ts';

const graph = importGraph(join(import.meta.dirname, '..', '..', 'src'));

describe('the import graph of src/', () => {
  it('reads every source file and its imports', () => {
    expect(graph.size).toBeGreaterThan(200);
    expect(graph.get('trainer/train.ts')).toContain('trainer/loop.ts');
  });

  it('has no import circle', () => {
    expect(importCycles(graph).map((c) => c.join(' '))).toEqual([]);
  });

  it('finds a circle when there is one (the check can fail)', () => {
    const g = new Map([['a.ts', new Set(['b.ts'])], ['b.ts', new Set(['c.ts'])], ['c.ts', new Set(['a.ts'])], ['d.ts', new Set(['a.ts'])]]);
    expect(importCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import from the folders below trainer/ and distributed/ up to them', () => {
    expect(upwardArrows(graph, LOWER_FOLDERS, ['trainer', 'distributed'])).toEqual([]);
    expect(upwardArrows(graph, ['trainer'], ['distributed', 'cli', 'server', 'ui'])).toEqual([]);
  });

  it('keeps the kind-table primitives (registry/) a leaf: no concept, no kind table, nothing of recipe/', () => {
    const out = [...graph].filter(([f]) => f.startsWith('registry/')).flatMap(([f, deps]) => [...deps].map((d) => `${f} -> ${d}`));
    // The only imports out of the folder: errors.ts, util/, and the model view a check reads (types).
    expect(out.filter((a) => !/ -> (registry\/|errors\.ts$|util\/|models\/(layout|tokenizer)\.ts$)/.test(a))).toEqual([]);
  });
});
