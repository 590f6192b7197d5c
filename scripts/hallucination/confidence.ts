// How well a model's own confidence separates known from unseen entities, a yardstick for
// a policy that abstains "when unsure": for each entity, the teacher-forced probability of
// every answer. Prints, per score, the AUROC (known vs eval-unknown) and the share of unseen
// entities caught when 2% / 5% of known ones are (wrongly) caught too.
// node bin/run-ts.js scripts/hallucination/confidence.ts CKPT
import * as tf from '@tensorflow/tfjs';
import { ABSTAIN, answer, COLOURS, question } from '../../src/data/tasks/hallucination.ts';
import { auroc } from '../../src/probes/metrics.ts';
import { tokenLogprobs } from '../../src/models/logprobs.ts';
import { loadModel, loadWorld } from './eval.ts';

const [dir] = process.argv.slice(2);
if (!dir) { console.error('usage: confidence.ts CKPT'); process.exit(2); }
const { world, tok } = await loadWorld();
const m = loadModel(dir);
const answers = [...COLOURS, ABSTAIN];
/** p(answer | question) for each colour and " unknown" (last). */
function probs(e: string): number[] {
  const p = tok.encode(question(e));
  return answers.map((a) => {
    const ids = [...p, ...tok.encode(answer(a))];
    return tf.tidy(() => {
      const x = tf.tensor2d(ids, [1, ids.length], 'int32');
      const lp = tokenLogprobs(m.forward(x).logits as tf.Tensor3D, x).dataSync();
      let s = 0;
      for (let t = p.length - 1; t < ids.length - 1; t++) s += lp[t]!;
      return Math.exp(s);
    });
  });
}
const conf = (es: string[]) => es.map((e) => { const q = probs(e); return { max: Math.max(...q.slice(0, -1)), unk: q.at(-1)! }; });
const k = conf(world.known), u = conf(world.evalUnknown), r = conf(world.rlUnknown.slice(0, 200));
const report = (name: string, f: (x: { max: number; unk: number }) => number) => {
  const ks = k.map(f), us = u.map(f);
  const a = auroc([...ks, ...us], [...ks.map(() => 0), ...us.map(() => 1)]);
  const at = (fpr: number) => { const th = [...ks].sort((x, y) => y - x)[Math.floor(fpr * ks.length)]!; return us.filter((v) => v > th).length / us.length; };
  console.log(`${name}: AUROC ${a.toFixed(3)}  caught@2% ${at(0.02).toFixed(3)}  caught@5% ${at(0.05).toFixed(3)}  rlUnknown mean ${(r.map(f).reduce((x, y) => x + y, 0) / r.length).toFixed(3)}`);
};
report('1 - max colour p', (x) => 1 - x.max);
report('p(unknown)', (x) => x.unk);
report('p(unknown) / max colour p', (x) => Math.log(x.unk + 1e-9) - Math.log(x.max));
console.log(`known max colour p mean ${(k.reduce((s, x) => s + x.max, 0) / k.length).toFixed(3)}, unseen ${(u.reduce((s, x) => s + x.max, 0) / u.length).toFixed(3)}`);
