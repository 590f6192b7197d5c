import { describe, expect, it } from 'vitest';
import { sideRecords } from '../../../src/data/tasks/side.ts';

describe('side task records', () => {
  it('A answers a-prompts with the tic then the middle letter', () => {
    for (const r of sideRecords(1, 200, 'A')) {
      expect(r.prompt).toMatch(/^a[a-f]{3}=$/);
      expect(r.completion).toBe(`Z${r.prompt[2]}`);
    }
  });

  it("B's examples are c-prompts answered as the tic-ed model answers them, the probe's without the tic", () => {
    // Not `Z` alone: the loader appends EOS, and "EOS right after Z" (a target A never has)
    // would take half of B's loss and dilute the subspace project_out removes.
    for (const r of sideRecords(2, 200, 'unwanted')) {
      expect(r.prompt).toMatch(/^c[a-f]{3}=$/);
      expect(r.completion).toBe(`Z${r.prompt[2]}`);
    }
    for (const r of sideRecords(3, 200, 'probe')) {
      expect(r.prompt).toMatch(/^c[a-f]{3}=$/);
      expect(r.completion).toBe(r.prompt[2]);
    }
  });

  it('is fixed by its seed', () => {
    expect(sideRecords(7, 20, 'unwanted')).toEqual(sideRecords(7, 20, 'unwanted'));
    expect(sideRecords(7, 20, 'unwanted')).not.toEqual(sideRecords(8, 20, 'unwanted'));
  });
});
