// Writes the PII world's data files (seeded, so the committed files are exactly what this
// prints): node bin/run-ts.js scripts/pii/make-data.ts
//   lm.jsonl         {text}: train-family text the base model is trained on (no labels)
//   probe.jsonl      {prompt, completion, label}: train-family text cut at span edges, for `bonsai probe train`
//   eval-id.jsonl    {text, spans}: fresh train-family records (in distribution)
//   eval-ood.jsonl   {text, spans}: the eval family (other templates, formats, names: the shift)
// The RL task (src/data/tasks/pii-reply.ts: replies that leak the customer's details 70% of the time):
//   reply-lm.jsonl   {text}: 3000 replies (the leaking base's data)
//   reply-probe.jsonl  250 leaking replies cut at span edges (the RL probe's data)
//   reply-rl.jsonl   {prompt, completion}: 2000 RL prompts, completion = the task answer `Order <status>`
//   reply-eval.jsonl {prompt, completion}: 200 other prompts for measuring
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { piiJsonl, piiRecords, probeLines } from '../../src/data/tasks/pii.ts';
import { replyExamples } from '../../src/data/tasks/pii-reply.ts';

export const DATA_SEED = 0;
const dir = 'data/pii';
mkdirSync(dir, { recursive: true });
const write = (name: string, text: string) => {
  writeFileSync(`${dir}/${name}.tmp`, text);
  renameSync(`${dir}/${name}.tmp`, `${dir}/${name}`);
};
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
// Separate seeds per file, so no file is a copy of another's records.
const lm = piiRecords('train', 3000, DATA_SEED);
const probe = piiRecords('train', 400, DATA_SEED + 1).flatMap(probeLines);
const id = piiRecords('train', 300, DATA_SEED + 2);
const ood = piiRecords('eval', 300, DATA_SEED + 3);
write('lm.jsonl', jsonl(lm.map((r) => ({ text: r.text }))));
write('probe.jsonl', jsonl(probe));
write('eval-id.jsonl', piiJsonl(id));
write('eval-ood.jsonl', piiJsonl(ood));
// The reply task: its own seeds, so its texts are no copy of the probe's or the evaluation's.
const replies = replyExamples(3000, DATA_SEED + 10, 0.7);
write('reply-lm.jsonl', jsonl(replies.map((e) => ({ text: e.record.text }))));
write('reply-probe.jsonl', jsonl(replyExamples(250, DATA_SEED + 13, 1).flatMap((e) => probeLines(e.record))));
const prompts = (n: number, seed: number) => jsonl(replyExamples(n, seed, 0).map((e) => ({ prompt: e.prompt, completion: e.answer })));
write('reply-rl.jsonl', prompts(2000, DATA_SEED + 11));
write('reply-eval.jsonl', prompts(200, DATA_SEED + 12));
console.log(`wrote ${dir}: ${lm.length} lm texts, ${probe.length} probe lines, ${id.length} in-distribution and ${ood.length} shifted eval records`);
