import type * as tf from '@tensorflow/tfjs';
import { BonsaiError } from '../errors.ts';
import { globToRegExp } from '../util/glob.ts';

/**
 * Entry-level parameter selections for circuit freezing. A selection is a 0/1 flag per
 * entry of each parameter (1 = selected), built in JS from the layouts in
 * models/params.ts, so heads and neurons are exact slices, not approximations.
 */
export type Selection = Map<string, Uint8Array>;


/** Flags on the entries of `p` selected by `pick(row, col)` (a 1-D tensor is one row). */
function flagEntries(p: tf.Variable, pick: (row: number, col: number) => boolean): Uint8Array {
  const [rows, cols] = p.rank === 1 ? [1, p.shape[0]!] : [p.shape[0]!, p.shape[1]!];
  const out = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (pick(r, c)) out[r * cols + c] = 1;
  return out;
}

function mark(sel: Selection, path: string, flags: Uint8Array): void {
  const prev = sel.get(path);
  if (!prev) sel.set(path, flags);
  else for (let i = 0; i < flags.length; i++) prev[i] = prev[i]! | flags[i]!;
}

/** Every entry of every parameter whose path matches the glob. Matching nothing is an error. */
export function selectGlob(params: ReadonlyMap<string, tf.Variable>, glob: string, where = 'freeze'): Selection {
  const re = globToRegExp(glob);
  const sel: Selection = new Map();
  for (const [path, p] of params) if (re.test(path)) sel.set(path, new Uint8Array(p.size).fill(1));
  if (sel.size === 0) {
    throw new BonsaiError(`${where}: "${glob}" matches no parameter`, { hint: `parameters are named like ${[...params.keys()].slice(0, 4).join(', ')}, …` });
  }
  return sel;
}

/** Parses `blocks.1.attn[2,3]` / `blocks.0.mlp[0,5]` into the block index and the indices. */
export function parseIndexed(spec: string, part: 'attn' | 'mlp', where: string): { layer: number; indices: number[] } {
  const m = new RegExp(`^blocks\\.(\\d+)\\.${part}\\[([\\d,\\s]+)\\]$`).exec(spec.trim());
  if (!m) throw new BonsaiError(`${where}: "${spec}" is not of the form blocks.<i>.${part}[<j>, ...]`);
  const indices = m[2]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!indices.length) throw new BonsaiError(`${where}: "${spec}" lists no indices`);
  return { layer: Number(m[1]), indices };
}

function need(params: ReadonlyMap<string, tf.Variable>, path: string, spec: string, where: string): tf.Variable {
  const p = params.get(path);
  if (!p) throw new BonsaiError(`${where}: "${spec}" matches nothing: the model has no parameter ${path}`);
  return p;
}

/**
 * Attention heads: head h owns columns h·dh…(h+1)·dh of W_Q/W_K/W_V (and those entries of
 * their biases) and rows h·dh…(h+1)·dh of W_O. b_O is shared by all heads, so it stays.
 * Under grouped-query attention (nKvHeads < nHeads) a head index names a query head: its
 * W_Q (b_Q) columns and W_O rows are selected, and W_K/W_V are not, because each key/value
 * head is shared by nHeads/nKvHeads query heads (freeze them with a glob if they must hold).
 */
export function selectHeads(params: ReadonlyMap<string, tf.Variable>, spec: string, nHeads: number, where = 'freeze.heads', nKvHeads = nHeads): Selection {
  const { layer, indices } = parseIndexed(spec, 'attn', where);
  const a = `blocks.${layer}.attn`;
  const dh = need(params, `${a}.W_Q`, spec, where).shape[1]! / nHeads;
  for (const h of indices) if (h >= nHeads) throw new BonsaiError(`${where}: "${spec}" names head ${h} but blocks have ${nHeads} heads (0…${nHeads - 1})${headNote(nHeads, nKvHeads)}`);
  const inHead = (i: number) => indices.includes(Math.floor(i / dh));
  const sel: Selection = new Map();
  for (const n of nKvHeads === nHeads ? ['Q', 'K', 'V'] : ['Q']) {
    mark(sel, `${a}.W_${n}`, flagEntries(need(params, `${a}.W_${n}`, spec, where), (_r, c) => inHead(c)));
    const bias = params.get(`${a}.b_${n}`); // families without q/k/v biases have none
    if (bias) mark(sel, `${a}.b_${n}`, flagEntries(bias, (_r, c) => inHead(c)));
  }
  mark(sel, `${a}.W_O`, flagEntries(need(params, `${a}.W_O`, spec, where), (r) => inHead(r)));
  return sel;
}

/** What a head index means under grouped-query attention, for error messages. */
export function headNote(nHeads: number, nKvHeads: number): string {
  if (nKvHeads === nHeads) return '';
  return `; with grouped-query attention these are query heads: freezing one holds its W_Q columns and W_O rows, not W_K/W_V, whose ${nKvHeads} key/value heads are each shared by ${nHeads / nKvHeads} query heads`;
}

/** MLP neurons: neuron n is column n of W_in (and of W_gate, and b_in[n], where the family has them) and row n of W_out. */
export function selectNeurons(params: ReadonlyMap<string, tf.Variable>, spec: string, where = 'freeze.neurons'): Selection {
  const { layer, indices } = parseIndexed(spec, 'mlp', where);
  const m = `blocks.${layer}.mlp`;
  const W_in = need(params, `${m}.W_in`, spec, where);
  const M = W_in.shape[1]!;
  for (const n of indices) if (n >= M) throw new BonsaiError(`${where}: "${spec}" names neuron ${n} but the MLP has ${M} (0…${M - 1})`);
  const sel: Selection = new Map();
  mark(sel, `${m}.W_in`, flagEntries(W_in, (_r, c) => indices.includes(c)));
  // Gated MLPs (SwiGLU): the neuron's gate column too; families without MLP biases have no b_in.
  const gate = params.get(`${m}.W_gate`);
  if (gate) mark(sel, `${m}.W_gate`, flagEntries(gate, (_r, c) => indices.includes(c)));
  const b_in = params.get(`${m}.b_in`);
  if (b_in) mark(sel, `${m}.b_in`, flagEntries(b_in, (_r, c) => indices.includes(c)));
  mark(sel, `${m}.W_out`, flagEntries(need(params, `${m}.W_out`, spec, where), (r) => indices.includes(r)));
  return sel;
}

/** The union of selections (entry-wise OR). */
export function unionSelections(parts: readonly Selection[]): Selection {
  const out: Selection = new Map();
  for (const s of parts) for (const [path, flags] of s) mark(out, path, Uint8Array.from(flags));
  return out;
}

/** Selected entries per tensor, plus the total. */
export function selectionCounts(sel: Selection): { byPath: Record<string, { frozen: number; of: number }>; total: number } {
  const byPath: Record<string, { frozen: number; of: number }> = {};
  let total = 0;
  for (const [path, flags] of sel) {
    let n = 0;
    for (const f of flags) n += f;
    byPath[path] = { frozen: n, of: flags.length };
    total += n;
  }
  return { byPath, total };
}
