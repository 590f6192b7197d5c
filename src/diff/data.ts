/** Text the diff's lens reads, as token sequences. */
import { readRecords } from '../data/records.ts';
import { readDataFile } from '../data/load.ts';
import { BonsaiError } from '../errors.ts';
import type { Tokenizer } from '../models/tokenizer.ts';
import { promptInputIds } from '../models/input-ids.ts';

/**
 * Sequences from a file: JSONL records give `text`, or `prompt` + `completion` (the
 * completion optional); any other file gives one sequence per non-blank line.
 */
export function readLensSequences(path: string, tok: Tokenizer): number[][] {
  let texts: string[];
  if (path.endsWith('.jsonl')) {
    const recs = readRecords(path, {}, { text: 'string', prompt: 'string', completion: 'string' });
    texts = recs.map((r, i) => {
      if (typeof r.text === 'string') return r.text;
      if (typeof r.prompt === 'string') return r.prompt + ((r.completion as string | undefined) ?? '');
      throw new BonsaiError(`record ${i + 1} has neither "text" nor "prompt"`, { where: path });
    });
  } else {
    texts = readDataFile(path).split('\n').filter((l) => l.trim() !== '');
  }
  const seqs = texts.filter((t) => t.length > 0).map((t) => promptInputIds(tok, t)); // as the model reads it: its BOS first where the tokenizer adds one
  if (!seqs.length) throw new BonsaiError(`${path}: no text to read the lens on`);
  return seqs;
}

/** `0-4,7` → [0, 1, 2, 3, 4, 7]; a bad entry is an error naming the flag. */
export function parsePositions(spec: string, flag = '--positions'): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new BonsaiError(`${flag}: "${part}" is not a position or a range like 0-4`);
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (hi < lo) throw new BonsaiError(`${flag}: range ${part} runs backwards`);
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}
