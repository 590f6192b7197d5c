// Why the entity probe trailed the base's own confidence: each candidate cause (position, hook,
// probe kind, labels, data size) varied alone, every probe trained on validation entities only
// and measured, like the confidence, on the REPORTED split (its 32 known vs 128 unseen entities;
// splits.ts). Every fit has the entity probe recipe's settings (held-out fifth, seed 0, up to 2000
// epochs, patience 100), so rows differ only in the cause varied. Prints one AUROC per row.
// node bin/run-ts.js scripts/hallucination/probe-diagnosis.ts BASE_CKPT
import { COLOURS, ENTITY_PROBE_AT, question } from '../../src/data/tasks/hallucination.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { captureFeatures, type Features } from '../../src/probes/capture.ts';
import { fitProbe } from '../../src/probes/fit.ts';
import { LogitLens } from '../../src/probes/logit-lens.ts';
import { auroc } from '../../src/probes/metrics.ts';
import type { ProbeKindSpec } from '../../src/probes/probe.ts';
import { colourConfidence } from './confidence-gate.ts';
import { firstLetterConfidence } from './evaluate-probe.ts';
import { splitEntities } from './splits.ts';
import { loadModel, loadWorld } from './eval.ts';

const [dir] = process.argv.slice(2);
if (!dir) { console.error('usage: probe-diagnosis.ts BASE_CKPT'); process.exit(2); }
const { world, tok } = await loadWorld();
const loaded = loadModel(dir);
const m: CausalLM = loaded.frozenCopy();
loaded.dispose();
const val = splitEntities(world, 'validation');
const rep = splitEntities(world, 'reported');
const RESID = 'blocks.1.hook_resid_post';
const LN = 'ln_final.hook_normalized';
const lens = new LogitLens(m);

/** Where a row reads: offsets back from the end of question + " " (0: the space, 1: the ":", 5: the entity's last letter). */
type Read = { hook: string; back: number; lens?: boolean };
const feats = (es: string[], r: Read, label: number): Features => {
  const ex = es.map((e) => { const ids = tok.encode(question(e) + ENTITY_PROBE_AT); return { ids, label, span: [ids.length - 1 - r.back, ids.length - r.back] as [number, number] }; });
  return captureFeatures(m, r.hook, 'sequence', ex, 64, r.lens ? (a) => lens.encode(a) : undefined);
};
const cat = (...fs: Features[]): Features => {
  const n = fs.reduce((a, f) => a + f.n, 0), d = fs[0]!.d;
  const X = new Float32Array(n * d), y = new Float32Array(n);
  let o = 0;
  for (const f of fs) { X.set(f.X, o * d); y.set(f.y, o); o += f.n; }
  return { X, y, n, d };
};
/** Validation entities in, reported entities out: membership labels (1 = never seen) unless `soft` gives each training row its own. */
function probeAuroc(r: Read, kind: ProbeKindSpec, o: { known?: string[]; testKnown?: string[]; unseen?: string[]; soft?: (es: string[]) => number[] } = {}): number {
  const known = o.known ?? val.known, unseen = o.unseen ?? val.unseen, testKnown = o.testKnown ?? rep.known;
  const tr = cat(feats(known, r, 0), feats(unseen, r, 1));
  if (o.soft) tr.y.set(o.soft([...known, ...unseen]));
  const te = cat(feats(testKnown, r, 0), feats(rep.unseen, r, 1));
  const p = fitProbe(tr, { name: 'diag', hook: r.hook, level: 'sequence', kind, fingerprint: m.fingerprint(), seed: 0, heldOut: 0.2, maxEpochs: 2000, patience: 100 });
  try {
    return auroc(p.scoreRows(te.X, te.n), te.y);
  } finally {
    p.dispose();
  }
}
const prefix = (e: string) => tok.encode(question(e) + ENTITY_PROBE_AT);
const teY = [...rep.known.map(() => 0), ...rep.unseen.map(() => 1)];
const conf = (es: string[]) => { const out: number[] = []; for (let i = 0; i < es.length; i += 128) out.push(...colourConfidence(m, tok, es.slice(i, i + 128).map(prefix))); return out; };
// Distilled labels: the base's own whole-word confidence as the label, sharpened around 0.97
// (a logistic of its log-odds), on every validation entity and the 1548 RL-only names.
const distil = (es: string[]) => conf(es).map((p) => 1 / (1 + Math.exp(Math.log(p / (1 - p)) - Math.log(0.97 / 0.03))));
const mlp: ProbeKindSpec = { kind: 'mlp', hidden: 64, l2: 1e-4 };
const logistic: ProbeKindSpec = { kind: 'logistic', l2: 1e-3 };
const space = { hook: RESID, back: 0 };
const rows: Array<[string, () => number]> = [
  ['the base\'s whole-word colour confidence (the gate; needs no training)', () => auroc(conf([...rep.known, ...rep.unseen]).map((p) => 1 - p), teY)],
  ['its first-letter confidence at the space (what the output shows where the probe reads)', () => auroc(firstLetterConfidence(m, tok, [...rep.known, ...rep.unseen].map(prefix)).map((p) => 1 - p), teY)],
  ['previous probe: residual (blocks.1), the space, MLP, membership labels', () => probeAuroc(space, mlp)],
  ['  position: the question\'s ":" instead of the space', () => probeAuroc({ hook: RESID, back: 1 }, mlp)],
  ['  position: the entity\'s last letter', () => probeAuroc({ hook: RESID, back: 5 }, mlp)],
  ['  kind: logistic instead of MLP', () => probeAuroc(space, logistic)],
  ['  hook: ln_final (normalised residual), MLP', () => probeAuroc({ hook: LN, back: 0 }, mlp)],
  ['  data: 16 of the 32 known entities', () => probeAuroc(space, mlp, { known: val.known.slice(0, 16), testKnown: rep.known.slice(16) })],
  ['  data: 48 known (16 reported ones lent; measured on the other 16)', () => probeAuroc(space, mlp, { known: [...val.known, ...rep.known.slice(0, 16)], testKnown: rep.known.slice(16) })],
  ['  data: 32 known, measured on the same 16 reported ones (the pair above)', () => probeAuroc(space, mlp, { testKnown: rep.known.slice(16) })],
  ['  data: + the 1548 RL-only unseen names', () => probeAuroc(space, mlp, { unseen: [...val.unseen, ...world.rlUnknown] })],
  ['  labels: the base\'s own confidence (distilled, 1708 names), residual MLP', () => probeAuroc(space, mlp, { unseen: [...val.unseen, ...world.rlUnknown], soft: distil })],
  ['new probe: the logit lens at the space, logistic, membership labels', () => probeAuroc({ hook: LN, back: 0, lens: true }, logistic)],
  ['  the logit lens, MLP', () => probeAuroc({ hook: LN, back: 0, lens: true }, mlp)],
  ['  the logit lens, logistic, distilled labels (1708 names)', () => probeAuroc({ hook: LN, back: 0, lens: true }, logistic, { unseen: [...val.unseen, ...world.rlUnknown], soft: distil })],
];
console.log(`| what the probe reads / how it is trained | AUROC (reported: ${rep.known.length} known vs ${rep.unseen.length} unseen) |\n|---|---|`);
for (const [name, f] of rows) console.log(`| ${name} | ${f().toFixed(3)} |`);
console.log(`(colours: ${COLOURS.join(', ')}: blue/black and green/gold/grey share a first letter)`);
m.dispose();
