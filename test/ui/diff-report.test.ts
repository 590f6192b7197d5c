import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDiffReport } from '../../src/ui/diff-report.ts';
import { tempDir } from '../helpers/recipes.ts';
import { writeDiffReport } from './fixtures.ts';

describe('bonsai diff reports for the ui', () => {
  it('reads a report; extra fields are allowed and missing sections are empty', () => {
    const file = join(tempDir(), 'r.json');
    writeDiffReport(file);
    const { report } = loadDiffReport(file);
    expect(report.weights.tensors[0]).toEqual({ path: 'blocks.1.mlp.W_out', rel_change: 0.12 });
    writeFileSync(file, JSON.stringify({ format: 'bonsai.diff/1', a: { path: 'a', fingerprint: 'x' }, b: { path: 'b', fingerprint: 'y' } }));
    const empty = loadDiffReport(file).report;
    expect([empty.weights.heads, empty.lens, empty.probes]).toEqual([[], [], []]);
  });

  it('names the file and the field that is wrong', () => {
    const dir = tempDir();
    const bad = (name: string, text: string) => (writeFileSync(join(dir, name), text), () => loadDiffReport(join(dir, name)));
    expect(bad('fmt.json', JSON.stringify({ format: 'other/2' }))).toThrow(/fmt\.json: format: /);
    expect(bad('lens.json', JSON.stringify({ format: 'bonsai.diff/1', a: { path: 'a', fingerprint: 'x' }, b: { path: 'b', fingerprint: 'y' }, lens: [{ layer: 1, promoted: [{ token: 'x', id: 'nope', logit: 1 }] }] }))).toThrow(/lens\.json: lens\.0\.promoted\.0\.id: /);
    expect(bad('text.json', 'not json')).toThrow(/text\.json is not JSON/);
    expect(() => loadDiffReport(join(dir, 'missing.json'))).toThrow(/cannot read diff report .*missing\.json: ENOENT/);
  });
});
