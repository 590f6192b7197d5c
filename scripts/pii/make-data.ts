// Writes the PII world's data files (seeded, so the committed files are exactly what this
// prints): node bin/run-ts.js scripts/pii/make-data.ts
//   lm.jsonl         {text}: train-family text the base model is trained on (no labels)
//   probe.jsonl      {prompt, completion, label}: train-family text cut at span edges, for `bonsai probe train`
//   eval-id.jsonl    {text, spans}: fresh train-family records (in distribution)
//   eval-ood.jsonl   {text, spans}: the eval family (other templates, formats, names: the shift)
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { piiJsonl, piiRecords, probeLines } from '../../src/data/tasks/pii.ts';

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
console.log(`wrote ${dir}: ${lm.length} lm texts, ${probe.length} probe lines, ${id.length} in-distribution and ${ood.length} shifted eval records`);
