// Writes the judges' labelling data (the probe-vs-judge comparison, docs/results/probe-vs-judge.md)
// from each world's PROBE TRAINING data only, so judge and probe learn from the same labelled text:
//   data/hallucination/judge.jsonl  one line per probe line: {prompt: question + answer, completion: "Y" | "N"}
//   data/pii/judge.jsonl            one line per token of the probe lines, PII_JUDGE_LINES of them drawn
//                                   without replacement (seeded): {prompt: text up to the token + 0x1E, completion: "Y" | "N"}
// node bin/run-ts.js scripts/judge/make-data.ts   (deterministic: the committed files are what it writes)
import { renameSync, writeFileSync } from 'node:fs';
import { readRecords } from '../../src/data/records.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { sequenceJudgeLines, tokenJudgeLines, SEQUENCE_JUDGE, TOKEN_JUDGE } from '../../src/probes/judge.ts';
import { Rng } from '../../src/util/rng.ts';

/** 8,000: what recipes/pii-judge.yaml's 250 steps × 32 read once; all 22,648 token lines would be a 1.5 MB file. */
export const PII_JUDGE_LINES = 8000;
const tok = createTokenizer('byte');
type Line = { prompt: string; completion: string; label: number };
const read = (f: string) => readRecords(f, { prompt: 'string', completion: 'string', label: 'number' }) as Line[];
const write = (path: string, lines: object[]) => {
  writeFileSync(`${path}.tmp`, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  renameSync(`${path}.tmp`, path);
  console.log(`wrote ${path}: ${lines.length} lines`);
};
write('data/hallucination/judge.jsonl', sequenceJudgeLines(read('data/hallucination/probe.jsonl'), SEQUENCE_JUDGE));
const all = tokenJudgeLines(read('data/pii/probe.jsonl'), tok, TOKEN_JUDGE);
const pick = new Rng(0).shuffle(all.map((_, i) => i)).slice(0, PII_JUDGE_LINES).sort((a, b) => a - b);
write('data/pii/judge.jsonl', pick.map((i) => all[i]!));
