// Can RL discover a retraction here? What the base's policy would have to SAMPLE for RL to
// reward it: after each of its colour claims (teacher-forced: question + " " + colour), the
// probability of the claim not ending ("\n"), and of the likeliest other next tokens. A marker
// the base puts ~1e-5 on is sampled about once in the 38,400 rollouts of 300 RL steps.
// node bin/run-ts.js scripts/hallucination/retraction.ts BASE_CKPT
import * as tf from '@tensorflow/tfjs';
import { COLOURS, question } from '../../src/data/tasks/hallucination.ts';
import { splitEntities } from './splits.ts';
import { loadModel, loadWorld } from './eval.ts';

const [dir] = process.argv.slice(2);
if (!dir) { console.error('usage: retraction.ts BASE_CKPT'); process.exit(2); }
const { world, tok } = await loadWorld();
const m = loadModel(dir);
const nl = tok.encode('\n')[0]!;
const { unseen } = splitEntities(world, 'validation');
const rows = unseen.flatMap((e) => COLOURS.map((col) => tok.encode(`${question(e)} ${col}`)));
const next = new Float64Array(tok.vocabSize); // mean next-token probability after a claim
let notEnd = 0;
for (let s = 0; s < rows.length; s += 256) {
  const b = rows.slice(s, s + 256);
  const T = Math.max(...b.map((r) => r.length));
  const flat = new Int32Array(b.length * T); // right-padded: each row's last real position is exact
  b.forEach((r, i) => flat.set(r, i * T));
  const p = tf.tidy(() => tf.softmax(m.forward(tf.tensor2d(flat, [b.length, T], 'int32')).logits).arraySync() as number[][][]);
  b.forEach((r, i) => {
    const q = p[i]![r.length - 1]!;
    notEnd += (1 - q[nl]!) / rows.length;
    q.forEach((v, k) => (next[k]! += v / rows.length));
  });
}
const top = [...next.entries()].filter(([k]) => k !== nl).sort((a, b) => b[1] - a[1]).slice(0, 6);
console.log(`after a colour claim (${unseen.length} validation unseen entities × ${COLOURS.length} colours): p(the answer goes on, not "\\n") = ${notEnd.toExponential(1)}`);
console.log(`likeliest continuations other than "\\n": ${top.map(([k, v]) => `${JSON.stringify(tok.decode([k]))} ${v.toExponential(1)}`).join(', ')}`);
for (const marker of [' ', '?', '!', '-', ',']) console.log(`p(${JSON.stringify(marker)}) = ${next[tok.encode(marker)[0]!]!.toExponential(1)}`);
m.dispose();
