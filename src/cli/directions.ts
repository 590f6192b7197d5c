import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.ts';
import { loadDataset } from '../data/index.ts';
import { BonsaiError } from '../errors.ts';
import { collectActivations, meanDifference, pcaOfDifferences, readoutDirection } from '../gradients/directions.ts';
import { saveDirections } from '../gradients/directions-file.ts';
import { checkWidth, hookWidth } from '../gradients/interventions.ts';
import { createTokenizer } from '../models/tokenizer.ts';
import type { CausalLM } from '../models/model.ts';
import { modelFromValues } from '../models/registry.ts';
import { loadProbe } from '../probes/index.ts';
import { latestCheckpoint, loadCheckpoint } from '../models/checkpoint.ts';
import { intFlag, parse, usage, type Command } from './args.ts';

const HELP = usage('bonsai directions --checkpoint DIR --hook HOOK --method M --out FILE [options]', 'Compute concept directions at a hook and save them for ablate / steer.', [
  ['--checkpoint DIR', 'the model (a checkpoint dir or a run out_dir)'],
  ['--hook HOOK', 'hook point, e.g. blocks.0.hook_resid_post'],
  ['--method mean-diff', 'contrastive mean difference of --positive and --negative data (reports d′ and accuracy)'],
  ['--method pca', 'PCA of activation differences between --before DIR and --checkpoint on --data (reports variance explained)'],
  ['--method probe', "a logistic probe's weights, from --probe DIR"],
  ['--method readout', "the unembedding's direction for --token TEXT (its tokens' columns minus the mean column): what makes the model say it; for the last block's residual"],
  ['--k N', 'directions to keep for pca (default 1)'],
  ['--out FILE', 'where to write the directions (JSON)'],
  ['--backend NAME', 'auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu (default auto)'],
]);

const source = (path: string) => ({ format: path.endsWith('.jsonl') ? ('jsonl' as const) : ('text' as const), path });

function model(dir: string): { m: CausalLM; tokenizer: ReturnType<typeof createTokenizer> } {
  const ckDir = latestCheckpoint(dir) ?? dir;
  const ck = loadCheckpoint(ckDir);
  return { m: modelFromValues(ck.config, ck.weights), tokenizer: createTokenizer(ck.tokenizer, ckDir) };
}

/** `bonsai directions`: finds directions, prints how well they separate or explain, writes the file. */
export const directionsCommand: Command = async (argv) => {
  const { values: v } = parse('directions', argv, {
    checkpoint: { type: 'string' }, hook: { type: 'string' }, method: { type: 'string' }, out: { type: 'string' },
    positive: { type: 'string' }, negative: { type: 'string' }, data: { type: 'string' }, before: { type: 'string' },
    probe: { type: 'string' }, k: { type: 'string' }, backend: { type: 'string' }, token: { type: 'string' },
  });
  if (v.help) return (process.stdout.write(HELP), 0);
  if (!v.checkpoint || !v.hook || !v.method || !v.out) return (process.stderr.write(`bonsai directions: --checkpoint, --hook, --method and --out are required\n\n${HELP}`), 2);
  await initBackend((v.backend ?? 'auto') as 'auto');
  const { m, tokenizer } = model(v.checkpoint);
  const hook = v.hook;
  const opened: CausalLM[] = [m];
  try {
    if (!m.hookPoints().includes(hook)) throw new BonsaiError(`--hook: unknown hook point "${hook}"`);
    const width = hookWidth(m.config, hook);
    const read = (flag: string, path: string | undefined) => {
      if (!path) throw new BonsaiError(`--method ${v.method} needs ${flag}`);
      return loadDataset(source(path), tokenizer, m.config.nCtx).examples;
    };
    let vectors: number[][];
    let stats: Record<string, number | string>;
    if (v.method === 'mean-diff') {
      const r = meanDifference(collectActivations(m, read('--positive', v.positive), hook), collectActivations(m, read('--negative', v.negative), hook));
      vectors = [r.vector];
      stats = { method: 'mean-diff', ...r.stats };
      process.stdout.write(`separation: d′ ${r.stats.d_prime!.toFixed(3)}, midpoint accuracy ${(100 * r.stats.accuracy!).toFixed(1)}%, |mean difference| ${r.stats.mean_diff_norm!.toFixed(4)}\n`);
    } else if (v.method === 'pca') {
      if (!v.before) throw new BonsaiError('--method pca needs --before DIR (the model before fine-tuning)');
      const b = model(v.before).m;
      opened.push(b);
      const ex = read('--data', v.data);
      const r = pcaOfDifferences(collectActivations(b, ex, hook), collectActivations(m, ex, hook), intFlag('--k', v.k) ?? 1);
      vectors = r.vectors;
      stats = { method: 'pca', explained: r.explained.map((e) => e.toFixed(4)).join(',') };
      process.stdout.write(`variance explained: ${r.explained.map((e) => `${(100 * e).toFixed(1)}%`).join(', ')}\n`);
    } else if (v.method === 'probe') {
      if (!v.probe) throw new BonsaiError('--method probe needs --probe DIR');
      const p = loadProbe(v.probe, m, { allowOtherModel: true });
      try {
        if (p.sae) throw new BonsaiError(`--probe ${v.probe} reads SAE latents (features: sae): its weights are not one direction in activation space`);
        if (p.lens) throw new BonsaiError(`--probe ${v.probe} reads the logit lens (features: logit_lens): its weights are over next-token log-probabilities, not one direction in activation space`);
        if (p.meta.kind.kind !== 'logistic') throw new BonsaiError(`--probe ${v.probe}: only a logistic probe has one direction (this one is ${p.meta.kind.kind})`);
        if (p.meta.hook !== hook) throw new BonsaiError(`--probe ${v.probe} reads ${p.meta.hook}, not --hook ${hook}`);
        // logit = ((x − μ)/σ)·w + b, so the direction in activation space is w/σ.
        vectors = [Array.from(tf.tidy(() => tf.div(tf.reshape(p.weights.w!, [-1]), p.weights.sigma!)).dataSync())];
        stats = { method: 'probe', probe: v.probe };
      } finally {
        p.dispose();
      }
    } else if (v.method === 'readout') {
      if (!v.token) throw new BonsaiError('--method readout needs --token TEXT (the token(s) the direction should make the model say)');
      const ids = tokenizer.encode(v.token);
      vectors = [readoutDirection(m, ids)];
      stats = { method: 'readout', token: v.token, tokens: ids.join(',') };
      process.stdout.write(`readout of ${JSON.stringify(v.token)} (token ${ids.join(', ')}): |direction| ${Math.hypot(...vectors[0]!).toFixed(4)}\n`);
    } else throw new BonsaiError(`--method: unknown method "${v.method}" (mean-diff, pca, probe or readout)`);
    checkWidth(hook, width, vectors[0]!.length, `--method ${v.method}`);
    saveDirections(v.out, { format: 'bonsai-directions/1', kind: 'activation', hook, width, vectors, stats });
    process.stdout.write(`wrote ${vectors.length} direction(s) of width ${width} at ${hook} to ${v.out}\n`);
    return 0;
  } finally {
    for (const x of opened) x.dispose();
  }
};
