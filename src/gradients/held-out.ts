/**
 * Held-out splits for the rules that set a method's strength (the freeze guard, the K-FAC
 * edit's strength rule): what counts as one item, and the checks that keep a validation split
 * apart from the items results are reported on. Recipe validation runs these before any
 * backend loads, so this module imports no tensor code; what the rules read on a split is in
 * held-out-scores.ts.
 */
import { readFileSync } from 'node:fs';

/** A dataset reference as recipes write it. */
export interface DataRef {
  format: 'text' | 'jsonl';
  path: string;
}

/** A dataset's items by line (1-based): a JSONL record is its prompt (its text when it has none), a text file each non-blank line. */
export function datasetItems(ref: DataRef): Map<string, number> {
  const items = new Map<string, number>();
  readFileSync(ref.path, 'utf8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let key = line;
    if (ref.format === 'jsonl') {
      try {
        const o = JSON.parse(line) as { prompt?: unknown; text?: unknown };
        key = typeof o.prompt === 'string' ? o.prompt : typeof o.text === 'string' ? o.text : line;
      } catch {
        // A malformed line is the data loader's to report, with its own message.
      }
    }
    if (!items.has(key)) items.set(key, i + 1);
  });
  return items;
}

/**
 * Why `validation` cannot serve as a held-out split: it holds no item, or it shares items
 * with one of `apart` (each named by its role, e.g. "the test"). Undefined when it can.
 */
export function heldOutProblem(validation: DataRef, apart: ReadonlyArray<{ ref: DataRef; role: string }>): string | undefined {
  const mine = datasetItems(validation);
  if (mine.size === 0) return `${validation.path} holds no items: a held-out split needs at least one`;
  for (const { ref, role } of apart) {
    const theirs = ref.path === validation.path ? mine : datasetItems(ref);
    const shared = [...mine].filter(([k]) => theirs.has(k));
    if (!shared.length) continue;
    const [key, line] = shared[0]!;
    const first = `${JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key)} (line ${line} here, line ${theirs.get(key)} there)`;
    return `${validation.path} shares ${shared.length} item${shared.length === 1 ? '' : 's'} with ${role} ${ref.path}, e.g. ${first}; a held-out split must leave out the items results are reported on`;
  }
  return undefined;
}
