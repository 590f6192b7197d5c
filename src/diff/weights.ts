/**
 * Weight diffs: how far each tensor, attention head and MLP neuron moved from A to B,
 * as ‖B − A‖ / ‖A‖ over the entries it owns (see models/params.ts for the layouts).
 * Cheap, and often enough to localise what a fine-tune touched.
 */
import type { LMConfig } from '../models/lm-config.ts';
import { paramSpecs } from '../models/params.ts';

export interface TensorChange { path: string; rel_change: number; abs_change: number }
export interface HeadChange { layer: number; head: number; rel_change: number; abs_change: number }
export interface NeuronChange { layer: number; neuron: number; rel_change: number; abs_change: number }

/** Every tensor, head and neuron, each list sorted by decreasing rel_change. */
export interface WeightDiff { tensors: TensorChange[]; heads: HeadChange[]; neurons: NeuronChange[] }

/** Σ(b − a)² and Σa² over a set of entries, accumulated in float64. */
class SqSums {
  diff = 0;
  base = 0;
  add(a: Float32Array, b: Float32Array, i: number): void {
    const d = b[i]! - a[i]!;
    this.diff += d * d;
    this.base += a[i]! * a[i]!;
  }
  /**
   * ‖Δ‖/‖A‖. Entries that start at zero (biases at init) have no scale of their own: then
   * the change is measured against ‖B‖, which gives 1 for any move and 0 for none.
   */
  rel(): number {
    if (this.diff === 0) return 0;
    if (this.base > 0) return Math.sqrt(this.diff / this.base);
    return 1;
  }
  abs(): number {
    return Math.sqrt(this.diff);
  }
}

const byRel = <T extends { rel_change: number }>(xs: T[]) => xs.sort((x, y) => y.rel_change - x.rel_change);

/**
 * The weight diff of two models of one architecture (`checkComparable` first).
 * @param a parameter values by path (e.g. `model.valuesSync()`), the reference
 * @param b the same paths, the changed model
 */
export function weightDiff(config: LMConfig, a: Map<string, Float32Array>, b: Map<string, Float32Array>): WeightDiff {
  const tensors: TensorChange[] = [];
  for (const { path } of paramSpecs(config)) {
    const [x, y] = [a.get(path)!, b.get(path)!];
    const s = new SqSums();
    for (let i = 0; i < x.length; i++) s.add(x, y, i);
    tensors.push({ path, rel_change: s.rel(), abs_change: s.abs() });
  }
  const heads: HeadChange[] = [];
  const neurons: NeuronChange[] = [];
  const { dModel: D, dMlp: M, nHeads: H, nKvHeads: KV, dHead: dh } = config;
  for (let layer = 0; layer < config.nLayers; layer++) {
    const p = (name: string) => [a.get(`blocks.${layer}.${name}`)!, b.get(`blocks.${layer}.${name}`)!] as const;
    const has = (name: string) => a.has(`blocks.${layer}.${name}`);
    for (let head = 0; head < H; head++) {
      const s = new SqSums();
      // W_Q [D, H·dh], W_K/W_V [D, KV·dh]: the head's columns (under grouped-query attention,
      // those of the key/value head it reads); b_*: its slice; W_O [H·dh, D]: its rows.
      for (const n of ['Q', 'K', 'V']) {
        const [cols, j] = n === 'Q' ? [H * dh, head] : [KV * dh, Math.floor(head / (H / KV))];
        const [wa, wb] = p(`attn.W_${n}`);
        for (let r = 0; r < D; r++) for (let c = j * dh; c < (j + 1) * dh; c++) s.add(wa, wb, r * cols + c);
        if (!has(`attn.b_${n}`)) continue;
        const [ba, bb] = p(`attn.b_${n}`);
        for (let c = j * dh; c < (j + 1) * dh; c++) s.add(ba, bb, c);
      }
      const [oa, ob] = p('attn.W_O');
      for (let i = head * dh * D; i < (head + 1) * dh * D; i++) s.add(oa, ob, i);
      heads.push({ layer, head, rel_change: s.rel(), abs_change: s.abs() });
    }
    // W_in (and W_gate) [D, M]: column n; b_in: entry n; W_out [M, D]: row n.
    const sums = Array.from({ length: M }, () => new SqSums());
    for (const w of ['mlp.W_in', ...(has('mlp.W_gate') ? ['mlp.W_gate'] : [])]) {
      const [ia, ib] = p(w);
      for (let r = 0; r < D; r++) for (let n = 0; n < M; n++) sums[n]!.add(ia, ib, r * M + n);
    }
    const [oa, ob] = p('mlp.W_out');
    for (let n = 0; n < M; n++) {
      const s = sums[n]!;
      if (has('mlp.b_in')) {
        const [bia, bib] = p('mlp.b_in');
        s.add(bia, bib, n);
      }
      for (let c = 0; c < D; c++) s.add(oa, ob, n * D + c);
      neurons.push({ layer, neuron: n, rel_change: s.rel(), abs_change: s.abs() });
    }
  }
  return { tensors: byRel(tensors), heads: byRel(heads), neurons: byRel(neurons) };
}
