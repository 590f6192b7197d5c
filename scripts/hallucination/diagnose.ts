// Diagnoses why RL can or cannot learn to abstain in the hallucination world, for one base
// and probe: (1) the probe reward (max/mean over answer tokens, frozen base) of " unknown"
// vs each colour on RL-unknown and known entities; (2) how often the base, sampled at a
// temperature, abstains on RL-unknown entities.
// node bin/run-ts.js scripts/hallucination/diagnose.ts BASE_CKPT PROBE_DIR [temps=1,1.5,2]
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { initBackend } from '../../src/backend/index.ts';
import { ABSTAIN, answer, COLOURS, judge, question } from '../../src/data/tasks/hallucination.ts';
import { worldFromJson } from '../../src/data/tasks/hallucination-eval.ts';
import { generate } from '../../src/models/generate.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import { HookedTransformer } from '../../src/models/decoder.ts';
import { tokenFeatures } from '../../src/probes/capture.ts';
import { loadProbe } from '../../src/probes/io.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';

const [baseDir, probeDir, temps = '1,1.5,2'] = process.argv.slice(2);
if (!baseDir || !probeDir) { console.error('usage: diagnose.ts BASE_CKPT PROBE_DIR [temps]'); process.exit(2); }
await initBackend('auto');
const world = worldFromJson(JSON.parse(readFileSync('data/hallucination/world.json', 'utf8')));
const tok = createTokenizer('byte');
const c = loadCheckpoint(baseDir);
const base = HookedTransformer.fromValues(c.config, c.weights);
const probe = loadProbe(probeDir, base);
const hook = probe.meta.hook;
// The first 48 RL unknowns are the original pool; the 1500 extra ones would only add time.
const rlUnknown = world.rlUnknown.slice(0, 48);

/** Per-token probe scores on the answer tokens of prompt+completion. */
function scores(entity: string, completion: string): number[] {
  const p = tok.encode(question(entity));
  const ids = [...p, ...tok.encode(completion)];
  return tf.tidy(() => {
    const { logits, cache } = base.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), { cache: hook });
    logits.dispose();
    const s = probe.score(tokenFeatures(cache.get(hook))).dataSync() as Float32Array;
    cache.dispose();
    return Array.from(s.slice(p.length));
  });
}
const agg = (xs: number[]) => ({ max: Math.max(...xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length });
const fmt = (x: number) => x.toFixed(3);
for (const [name, ents] of [['rlUnknown', rlUnknown], ['known', world.known], ['evalUnknown', world.evalUnknown]] as const) {
  let abMax = 0, abMean = 0, colMax = 0, colMean = 0, abBetter = 0, n = 0;
  const perTokAb: number[] = new Array(9).fill(0);
  for (const e of ents) {
    const a = scores(e, answer(ABSTAIN));
    a.forEach((v, i) => (perTokAb[i]! += v / ents.length));
    const ag = agg(a);
    abMax += ag.max; abMean += ag.mean;
    const cols = COLOURS.map((col) => agg(scores(e, answer(col))));
    const cm = cols.reduce((s, x) => s + x.max, 0) / cols.length;
    colMax += cm; colMean += cols.reduce((s, x) => s + x.mean, 0) / cols.length;
    if (ag.max < cm) abBetter++;
    n++;
  }
  console.log(`${name}: probe max  unknown ${fmt(abMax / n)} vs colours ${fmt(colMax / n)} (abstain lower on ${abBetter}/${n}); mean unknown ${fmt(abMean / n)} vs colours ${fmt(colMean / n)}`);
  if (name === 'known') {
    const right = ents.map((e) => agg(scores(e, answer(world.colour.get(e)!))).max);
    console.log(`  known, right colour: probe max ${fmt(right.reduce((a, b) => a + b, 0) / n)} (> 0.5 on ${right.filter((v) => v > 0.5).length}/${n}; above " unknown" on ${right.filter((v, i) => v > agg(scores(ents[i]!, answer(ABSTAIN))).max).length}/${n})`);
  }
  console.log(`  per-token score of " unknown\\n": ${perTokAb.map(fmt).join(' ')}`);
}
for (const T of temps.split(',').map(Number)) {
  const ents = rlUnknown.flatMap((e) => Array(8).fill(e) as string[]);
  const g = generate(base, ents.map((e) => tok.encode(question(e))), { maxNewTokens: 10, temperature: T, rng: 1, stopTokens: [tok.encode('\n')[0]!, tok.eosId] });
  const j = ents.map((e, i) => judge(world, e, tok.decode(g.tokens[i]!)));
  const kn = world.known.flatMap((e) => Array(4).fill(e) as string[]);
  const gk = generate(base, kn.map((e) => tok.encode(question(e))), { maxNewTokens: 10, temperature: T, rng: 2, stopTokens: [tok.encode('\n')[0]!, tok.eosId] });
  const jk = kn.map((e, i) => judge(world, e, tok.decode(gk.tokens[i]!)));
  const sh = (xs: string[], v: string) => fmt(xs.filter((x) => x === v).length / xs.length);
  const withAb = rlUnknown.filter((_, k) => j.slice(k * 8, k * 8 + 8).includes('abstain')).length;
  console.log(`T=${T}: rlUnknown abstain ${sh(j, 'abstain')} (groups with ≥1 abstain ${withAb}/${rlUnknown.length}); known correct ${sh(jk, 'correct')} abstain ${sh(jk, 'abstain')}`);
}
