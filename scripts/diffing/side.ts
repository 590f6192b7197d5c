// Diffing ground truth on the side-behaviour task (docs/results/diffing.md): the lens at the tic
// position, and P(tic) on c-prompts per checkpoint with and without logit-diff amplification.
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { diffModels, lensDirections, loadModelAt, readLensSequences, type LoadedModel } from '../../src/diff/index.ts';
import { loadDirections, saveDirections } from '../../src/gradients/directions-file.ts';
import { ablateHook, steerHook } from '../../src/gradients/interventions.ts';
import type { ForwardOptions } from '../../src/models/hooks.ts';
import { generate } from '../../src/models/generate.ts';
import { createTokenizer } from '../../src/models/tokenizer.ts';
import type { CausalLM } from '../../src/models/model.ts';
import { loadRecipe } from '../../src/recipe/index.ts';
import { listCheckpoints } from '../../src/models/checkpoint-io.ts';
import { buildModel } from '../../src/models/init-build.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';

const Z = 'Z'.charCodeAt(0);
export const TIC_POS = 4; // "c<l1 l2 l3>=": the tic would be said after "=", position 4
export const ALPHAS = [1, 2];
/** The tic "appears" once sampling says it on at least this share of c-prompts. */
export const APPEARS = 0.1;

/** The fine-tune's base: the recipe's initial model for the seed, saved once as a checkpoint. */
export function sideBase(seed: number): string {
  const dir = `runs/diffing/side-base-seed${seed}`;
  if (!existsSync(dir)) {
    const r = loadRecipe('recipes/side-plain.yaml', { overrides: [`run.seed=${seed}`, 'tracking.uri=none'] });
    const m = buildModel(r, createTokenizer('byte'));
    saveCheckpoint(dir, { config: m.config, tokenizer: 'byte', weights: m.valuesSync() });
    m.dispose();
  }
  return dir;
}

/** Exact P(first token = Z) on the prompts, from l_B + α(l_B − l_A) (α = 0: plain); `fwd` hooks B. */
function ticProb(b: CausalLM, a: CausalLM, prompts: number[][], alpha: number, fwd: ForwardOptions = {}): number {
  const ids = tf.tensor2d(prompts, undefined, 'int32'); // all prompts are 5 tokens
  const p = tf.tidy(() => {
    const lb = b.forward(ids, fwd).logits.slice([0, TIC_POS, 0], [-1, 1, -1]);
    const la = a.forward(ids).logits.slice([0, TIC_POS, 0], [-1, 1, -1]);
    return tf.softmax(tf.sub(tf.mul(lb, 1 + alpha), tf.mul(la, alpha))).slice([0, 0, Z], [-1, 1, 1]).mean();
  });
  const v = p.dataSync()[0]!;
  tf.dispose([ids, p]);
  return v;
}

/** Share of prompts whose sampled first token (temperature 1, seeded) is Z. */
function ticSampled(b: CausalLM, a: CausalLM, prompts: number[][], alpha: number, seed: number): number {
  const out = generate(b, prompts, { maxNewTokens: 1, temperature: 1, rng: seed, amplify: alpha ? { from: a, alpha } : undefined });
  return out.tokens.filter((t) => t[0] === Z).length / prompts.length;
}

export interface SideSeed {
  seed: number;
  lens: Array<{ layer: number; top: string; promoted: string[] }>;
  /** P(tic) on c-prompts: base, base steered by the last layer's lens file, final, final with it ablated. */
  steer: { base: number; baseSteered: number; final: number; finalAblated: number };
  curve: Array<{ step: number; exact: number[]; sampled: number[] }>; // index 0 = plain, then ALPHAS
  firstStep: Array<number | null>; // first step at which sampled ≥ APPEARS, plain then ALPHAS
}

export function measureSide(seed: number): SideSeed {
  const tok = createTokenizer('byte');
  const prompts = readLensSequences('data/tasks/side/probe.jsonl', tok).map((s) => s.slice(0, TIC_POS + 1));
  const base = loadModelAt(sideBase(seed));
  const run = `runs/diffing/side-plain-seed${seed}`;
  // Every 2 steps up to 60 from the early run (the same run stopped there), then every 10.
  const early = listCheckpoints(`runs/diffing/side-plain-early-seed${seed}`);
  const last = early.at(-1)?.step ?? 0;
  const cks = [...early, ...listCheckpoints(run).filter((c) => c.step > last)];
  const final: LoadedModel = loadModelAt(cks.at(-1)!.dir);
  const r = diffModels(base, final, { sequences: prompts, positions: [TIC_POS] });
  // The last layer's difference through the directions file, as `steer` / `ablate` would read it.
  const file = `runs/diffing/side-lens-seed${seed}.json`;
  saveDirections(file, lensDirections(r.lens.at(-1)!));
  const d = loadDirections(file, 'activation');
  const [st, ab] = [steerHook(d.vectors[0]!, Number(d.stats!.mean_diff_norm)), ablateHook(d.vectors)];
  const steer = {
    base: ticProb(base.model, base.model, prompts, 0),
    baseSteered: ticProb(base.model, base.model, prompts, 0, { hooks: [{ at: d.hook, fn: st.fn }] }),
    final: ticProb(final.model, base.model, prompts, 0),
    finalAblated: ticProb(final.model, base.model, prompts, 0, { hooks: [{ at: d.hook, fn: ab.fn }] }),
  };
  tf.dispose([st.v, ab.q]);
  final.model.dispose();
  const lens = r.lens.map((l) => ({ layer: l.layer, top: l.promoted[0]?.token ?? '', promoted: l.promoted.slice(0, 5).map((t) => t.token) }));
  const alphas = [0, ...ALPHAS];
  const curve = cks.map(({ step, dir }) => {
    const m = loadModelAt(dir).model;
    const row = { step, exact: alphas.map((al) => ticProb(m, base.model, prompts, al)), sampled: alphas.map((al) => ticSampled(m, base.model, prompts, al, seed)) };
    m.dispose();
    return row;
  });
  base.model.dispose();
  const firstStep = alphas.map((_, i) => curve.find((c) => c.sampled[i]! >= APPEARS)?.step ?? null);
  return { seed, lens, steer, curve, firstStep };
}
