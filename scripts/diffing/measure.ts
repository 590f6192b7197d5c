// Diffing ground truth (docs/results/diffing.md), after scripts/diffing/train.sh:
//   node bin/run-ts.js scripts/diffing/measure.ts [--seeds 0,1,2,3,4] [--reuse]   → Markdown tables + runs/diffing/groundtruth.json
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/index.ts';
import { measureForgetting } from './forgetting.ts';
import { ALPHAS, APPEARS, measureSide, TIC_POS } from './side.ts';

const at = process.argv.indexOf('--seeds');
const seeds = at > 0 ? process.argv[at + 1]!.split(',').map(Number) : [0, 1, 2, 3, 4];
// --reuse: a seed's side or forgetting result saved by an earlier run of this script
// (runs/diffing/measured/) is read back instead of measured again, so seeds whose runs are
// trained can be measured while train.sh still trains the others. Without it every seed is measured.
const reuse = process.argv.includes('--reuse');
await initBackend('auto');
const pct = (x: number) => (100 * x).toFixed(1);
mkdirSync('runs/diffing/measured', { recursive: true });
function saved<T>(part: string, seed: number, measure: (s: number) => T): T {
  const f = `runs/diffing/measured/${part}-seed${seed}.json`;
  if (reuse && existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as T;
  const r = measure(seed);
  writeFileSync(`${f}.tmp`, JSON.stringify(r));
  renameSync(`${f}.tmp`, f);
  return r;
}
const side = seeds.map((s) => saved('side', s, measureSide));
const forgetting = seeds.map((s) => saved('forgetting', s, measureForgetting));
writeFileSync('runs/diffing/groundtruth.json', JSON.stringify({ side, forgetting }, null, 1));

const out: string[] = [];
out.push(`### Side behaviour: lens at the tic position (c-prompts, position ${TIC_POS}), base → plain fine-tune`, '');
out.push('| seed | layer 0 promoted (top 5) | layer 1 promoted (top 5) | top token, last layer |', '| --- | --- | --- | --- |');
for (const s of side) out.push(`| ${s.seed} | ${s.lens[0]!.promoted.map((t) => JSON.stringify(t)).join(' ')} | ${s.lens.at(-1)!.promoted.map((t) => JSON.stringify(t)).join(' ')} | ${JSON.stringify(s.lens.at(-1)!.top)} |`);
out.push('', "### Side behaviour: the last layer's lens difference as a directions file, P(tic) on c-prompts %", '');
out.push('| seed | base | base + steer (coef = ‖δ‖) | fine-tuned | fine-tuned, direction ablated |', '| --- | --- | --- | --- | --- |');
for (const s of side) out.push(`| ${s.seed} | ${pct(s.steer.base)} | ${pct(s.steer.baseSteered)} | ${pct(s.steer.final)} | ${pct(s.steer.finalAblated)} |`);
const names = ['plain', ...ALPHAS.map((a) => `α = ${a}`)];
out.push('', `### Side behaviour: first checkpoint at which sampling says the tic on ≥ ${pct(APPEARS)}% of c-prompts`, '');
out.push(`| seed | ${names.join(' | ')} |`, `| --- | ${names.map(() => '---').join(' | ')} |`);
for (const s of side) out.push(`| ${s.seed} | ${s.firstStep.map((x) => x ?? 'never').join(' | ')} |`);
out.push('', `### Side behaviour, seed ${side[0]!.seed}: P(tic) on c-prompts per checkpoint, % (exact from the logits / sampled, 400 prompts)`, '');
out.push(`| step | ${names.join(' | ')} |`, `| --- | ${names.map(() => '---').join(' | ')} |`);
for (const c of side[0]!.curve.filter((c) => c.step <= 60 || c.step % 50 === 0)) out.push(`| ${c.step} | ${c.exact.map((e, i) => `${pct(e)} / ${pct(c.sampled[i]!)}`).join(' | ')} |`);
out.push('', '### Forgetting: top-moved neurons (plain fine-tune on B vs the A model) against what attribution freezing holds', '');
out.push('| seed | precision@k: top-k moved that are held (k = 10%) | all neurons held | held share: top-k moved | bottom-k moved | all | Spearman(rel change, held) | heads by rel change | heads by held share |');
out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const f of forgetting) {
  out.push(`| ${f.seed} | ${pct(f.precisionAtK)}% | ${pct(f.baseRate)}% | ${pct(f.heldTopMoved)}% | ${pct(f.heldBottomMoved)}% | ${pct(f.heldAll)}% | ${f.neuronSpearman.toFixed(3)} | ${f.headsMoved.join(', ')} | ${f.headsHeld.join(', ')} |`);
}
out.push('', '### Forgetting: the same top-moved neurons against the attribution scores the freeze thresholds (mean |grad × weight| on task A per entry)', '');
out.push('| seed | overlap@k by rel change (k = 10%) | by abs change | chance | Spearman(rel change, score) | Spearman(abs change, score) | heads by score |', '| --- | --- | --- | --- | --- | --- | --- |');
for (const f of forgetting) out.push(`| ${f.seed} | ${pct(f.scoreOverlap)}% | ${pct(f.absOverlap)}% | ${pct(f.neuronChance)}% | ${f.scoreSpearman.toFixed(3)} | ${f.absSpearman.toFixed(3)} | ${f.headsByScore.join(', ')} |`);
console.log(out.join('\n'));
