// Diffing ground truth on the forgetting task (docs/results/diffing.md): do the heads and neurons
// the plain fine-tune on B moved most overlap what attribution freezing holds for task A?
import { evalBatches, loadDataset } from '../../src/data/index.ts';
import { attributionScores } from '../../src/gradients/attribution.ts';
import { lmLoss } from '../../src/trainer/loss.ts';
import { latestCheckpoint } from '../../src/models/checkpoint.ts';
import { diffModels, loadModelAt, type LoadedModel } from '../../src/diff/index.ts';
import type { LMConfig } from '../../src/models/lm-config.ts';
import { readSafetensors } from '../../src/models/safetensors.ts';

type Flags = Map<string, ArrayLike<number>>;

/**
 * Mean of a per-entry value (freeze flags → the share held; attribution scores → mean score)
 * over each head's and neuron's matrix entries: the slices weightDiff uses, biases left out.
 */
export function heldFractions(c: LMConfig, sel: Flags): { heads: number[][]; neurons: number[][] } {
  const { dModel: D, dMlp: M, nHeads: H } = c;
  const dh = c.dHead;
  const f = (p: string): ArrayLike<number> => sel.get(p) ?? new Uint8Array(0);
  const heads: number[][] = [];
  const neurons: number[][] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    heads.push(Array.from({ length: H }, (_, h) => {
      let held = 0, all = 0;
      for (const n of ['Q', 'K', 'V']) {
        const w = f(`${b}.attn.W_${n}`);
        for (let r = 0; r < D; r++) for (let col = h * dh; col < (h + 1) * dh; col++) (held += w[r * D + col] ?? 0), all++;
      }
      const o = f(`${b}.attn.W_O`);
      for (let i = h * dh * D; i < (h + 1) * dh * D; i++) (held += o[i] ?? 0), all++;
      return held / all;
    }));
    const [wi, wo] = [f(`${b}.mlp.W_in`), f(`${b}.mlp.W_out`)];
    neurons.push(Array.from({ length: M }, (_, n) => {
      let held = 0;
      for (let r = 0; r < D; r++) held += wi[r * M + n] ?? 0;
      for (let col = 0; col < D; col++) held += wo[n * D + col] ?? 0;
      return held / (2 * D);
    }));
  }
  return { heads, neurons };
}

/** Spearman rank correlation (ties get their mean rank). */
export function spearman(x: number[], y: number[]): number {
  const rank = (v: number[]) => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]!);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
      for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const [rx, ry] = [rank(x), rank(y)];
  const m = (rx.length - 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) (sxy += (rx[i]! - m) * (ry[i]! - m)), (sxx += (rx[i]! - m) ** 2), (syy += (ry[i]! - m) ** 2);
  return sxy / Math.sqrt(sxx * syy);
}

export interface ForgettingSeed {
  seed: number;
  /** Share of the top-k moved neurons (k = 10%) that the freeze holds (≥ half their entries frozen), and that share over all neurons. */
  precisionAtK: number;
  baseRate: number;
  /** k/N: the chance level of an overlap@k. */
  neuronChance: number;
  /** Mean held fraction among the top-k moved, the bottom-k moved, and all neurons. */
  heldTopMoved: number;
  heldBottomMoved: number;
  heldAll: number;
  neuronSpearman: number;
  /** Heads by rel_change and by held fraction, as "L0H1" lists. */
  headsMoved: string[];
  headsHeld: string[];
  headOverlapAt1: number;
  /** The same against the attribution scores the selection thresholds (mean |grad × weight| per entry). */
  scoreOverlap: number;
  scoreSpearman: number;
  /** The same by absolute change ‖Δ‖ (rel change divides by ‖A‖, and |grad × weight| grows with it). */
  absOverlap: number;
  absSpearman: number;
  headsByScore: string[];
}

/** Attribution scores on task A exactly as forgetting-attribution's freeze computes them (8 batches of 32 from a_train). */
function taskAScores(model: LoadedModel): Flags {
  const examples = loadDataset({ format: 'jsonl', path: 'data/tasks/forgetting/a_train.jsonl' }, model.tokenizer, 7).examples;
  const batches = evalBatches(examples, 32, 8);
  return attributionScores(model.model.params, batches, (b) => lmLoss(model.model, b), (_p, v) => v.rank >= 2);
}

/** |top-k of a ∩ top-k of b| / k over the same units. */
function overlapAtK(a: number[], b: number[], k: number): number {
  const top = (v: number[]) => new Set(v.map((x, i) => [x, i] as const).sort((x, y) => y[0] - x[0]).slice(0, k).map(([, i]) => i));
  const [ta, tb] = [top(a), top(b)];
  return [...ta].filter((i) => tb.has(i)).length / k;
}

export function measureForgetting(seed: number): ForgettingSeed {
  const base = loadModelAt(latestCheckpoint(`runs/diffing/forgetting-pretrain-seed${seed}`)!);
  const tuned = loadModelAt(latestCheckpoint(`runs/diffing/forgetting-none-seed${seed}`)!);
  const file = readSafetensors(`runs/diffing/forgetting-attribution-seed${seed}/freeze-selection.safetensors`);
  const sel: Flags = new Map(Object.entries(file.tensors).map(([p, t]) => [p, t.data as Uint8Array]));
  const c = base.model.config;
  const { weights } = diffModels(base, tuned);
  const scores = heldFractions(c, taskAScores(base));
  base.model.dispose();
  tuned.model.dispose();
  const held = heldFractions(c, sel);
  const N = weights.neurons.length;
  const k = Math.round(N / 10);
  const heldOf = (n: { layer: number; neuron: number }) => held.neurons[n.layer]![n.neuron]!;
  const topMoved = weights.neurons.slice(0, k);
  const moved = weights.neurons.map((n) => n.rel_change);
  const scoreOf = (i: number) => scores.neurons[weights.neurons[i]!.layer]![weights.neurons[i]!.neuron]!;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const headName = (l: number, h: number) => `L${l}H${h}`;
  const headsHeld = held.heads.flatMap((hs, l) => hs.map((v, h) => ({ n: headName(l, h), v }))).sort((a, b) => b.v - a.v);
  return {
    seed,
    precisionAtK: topMoved.filter((n) => heldOf(n) >= 0.5).length / k,
    baseRate: weights.neurons.filter((n) => heldOf(n) >= 0.5).length / N,
    neuronChance: k / N,
    heldTopMoved: mean(topMoved.map(heldOf)),
    heldBottomMoved: mean(weights.neurons.slice(-k).map(heldOf)),
    heldAll: mean(weights.neurons.map(heldOf)),
    neuronSpearman: spearman(weights.neurons.map((n) => n.rel_change), weights.neurons.map(heldOf)),
    headsMoved: weights.heads.map((h) => `${headName(h.layer, h.head)} ${h.rel_change.toFixed(3)}`),
    headsHeld: headsHeld.map((h) => `${h.n} ${h.v.toFixed(3)}`),
    headOverlapAt1: headName(weights.heads[0]!.layer, weights.heads[0]!.head) === headsHeld[0]!.n ? 1 : 0,
    scoreOverlap: overlapAtK(moved, weights.neurons.map((_, i) => scoreOf(i)), k),
    scoreSpearman: spearman(moved, weights.neurons.map((_, i) => scoreOf(i))),
    absOverlap: overlapAtK(weights.neurons.map((n) => n.abs_change), weights.neurons.map((_, i) => scoreOf(i)), k),
    absSpearman: spearman(weights.neurons.map((n) => n.abs_change), weights.neurons.map((_, i) => scoreOf(i))),
    headsByScore: scores.heads.flatMap((hs, l) => hs.map((v, h) => ({ n: headName(l, h), v }))).sort((a, b) => b.v - a.v).map((h) => `${h.n} ${h.v.toExponential(2)}`),
  };
}
