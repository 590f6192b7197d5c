/**
 * `bonsai diff`'s result: the weights, lens and probe sections together, as the JSON
 * report the run page reads (format `bonsai.diff/1`) and as a terminal summary.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { BonsaiError } from '../errors.ts';
import type { ProbeExample } from '../probes/capture.ts';
import { activationDiffLens, type LensLayer, type LensToken } from './lens.ts';
import { checkComparable, type LoadedModel } from './load.ts';
import { probeDrift, type ProbeDrift } from './probes.ts';
import { weightDiff, type WeightDiff } from './weights.ts';

export interface DiffOptions {
  /** Token sequences for the lens; without them the lens section is empty. */
  sequences?: number[][];
  /** Positions the lens averages over (default 0-4: the first five tokens). */
  positions?: number[];
  /** Tokens listed per side per layer (default 10). */
  topK?: number;
  /** Probes to score on both models, each with its labelled examples. */
  probes?: Array<{ dir: string; examples: ProbeExample[] }>;
}

export interface DiffResult {
  weights: WeightDiff;
  lens: LensLayer[];
  probes: ProbeDrift[];
  positions: number[];
}

/** The JSON report (`bonsai.diff/1`); every list sorted by decreasing magnitude. */
export interface DiffReport {
  format: 'bonsai.diff/1';
  a: { path: string; fingerprint: string };
  b: { path: string; fingerprint: string };
  weights: WeightDiff & { neurons_total: number };
  lens: Array<{ layer: number; hook: string; norm: number; promoted: LensToken[]; suppressed: LensToken[] }>;
  lens_positions: number[];
  probes: ProbeDrift[];
  /** Files written from the lens (`bonsai directions` format), one per layer. */
  directions?: string[];
}

export const DEFAULT_POSITIONS = [0, 1, 2, 3, 4];

/** Diffs B against A (same architecture and vocabulary, else a BonsaiError naming the fields). */
export function diffModels(a: LoadedModel, b: LoadedModel, opts: DiffOptions = {}): DiffResult {
  checkComparable(
    { config: a.model.config, tokenizer: a.tokenizerKind, path: a.path },
    { config: b.model.config, tokenizer: b.tokenizerKind, path: b.path },
  );
  const weights = weightDiff(a.model.config, a.model.valuesSync(), b.model.valuesSync());
  const positions = opts.positions ?? DEFAULT_POSITIONS;
  const lens = opts.sequences?.length ? activationDiffLens(a.model, b.model, b.tokenizer, opts.sequences, { positions, topK: opts.topK }) : [];
  const probes = (opts.probes ?? []).map((p) => probeDrift(p.dir, a.model, b.model, p.examples));
  return { weights, lens, probes, positions };
}

/**
 * The report for a result. `neuronsTop` keeps the JSON small on big models (GPT-2 small has
 * 36,864 neurons); `neurons_total` says how many there were.
 */
export function diffReport(r: DiffResult, a: LoadedModel, b: LoadedModel, opts: { neuronsTop?: number; directions?: string[] } = {}): DiffReport {
  const top = opts.neuronsTop ?? 100;
  return {
    format: 'bonsai.diff/1',
    a: { path: a.path, fingerprint: a.model.fingerprint() },
    b: { path: b.path, fingerprint: b.model.fingerprint() },
    weights: { tensors: r.weights.tensors, heads: r.weights.heads, neurons: r.weights.neurons.slice(0, top), neurons_total: r.weights.neurons.length },
    lens: r.lens.map(({ layer, hook, norm, promoted, suppressed }) => ({ layer, hook, norm, promoted, suppressed })),
    lens_positions: r.positions,
    probes: r.probes,
    ...(opts.directions ? { directions: opts.directions } : {}),
  };
}

/** Writes the report through a temp file and a rename: never half-written. */
export function writeDiffReport(path: string, report: DiffReport): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(report, null, 1)}\n`);
    renameSync(tmp, path);
  } catch (e) {
    throw new BonsaiError(`cannot write the diff report to ${path}: ${(e as Error).message}`);
  }
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));
const toks = (xs: LensToken[], n: number) => xs.slice(0, n).map((t) => `${JSON.stringify(t.token)} ${t.logit.toFixed(2)}`).join(', ') || '—';

/** A terminal summary: the top movers, each layer's lens, probe drift. */
export function formatDiffSummary(rep: DiffReport, top = 5): string {
  const w = rep.weights;
  const lines = [
    `diff  A ${rep.a.path} (${rep.a.fingerprint.slice(0, 15)}…)`,
    `      B ${rep.b.path} (${rep.b.fingerprint.slice(0, 15)}…)${rep.a.fingerprint === rep.b.fingerprint ? '  — identical weights' : ''}`,
    '',
    `weights: ‖B − A‖/‖A‖, top ${top}`,
    `  tensors: ${w.tensors.slice(0, top).map((t) => `${t.path} ${f3(t.rel_change)}`).join(', ')}`,
    `  heads:   ${w.heads.slice(0, top).map((h) => `L${h.layer}H${h.head} ${f3(h.rel_change)}`).join(', ')}`,
    `  neurons: ${w.neurons.slice(0, top).map((n) => `L${n.layer}N${n.neuron} ${f3(n.rel_change)}`).join(', ')}`,
  ];
  if (rep.lens.length) {
    lines.push('', `lens: mean(B − A) of the residual stream at positions ${rep.lens_positions.join(',')}, through B's unembedding`);
    for (const l of rep.lens) lines.push(`  layer ${l.layer} (‖δ‖ ${f3(l.norm)})`, `    promoted:   ${toks(l.promoted, top)}`, `    suppressed: ${toks(l.suppressed, top)}`);
  } else lines.push('', 'lens: no --data given');
  if (rep.probes.length) {
    lines.push('', 'probes: AUROC and mean score, A → B');
    for (const p of rep.probes) {
      lines.push(`  ${p.name}: AUROC ${f3(p.auroc_a)} → ${f3(p.auroc_b)}, mean ${f3(p.mean_a)} → ${f3(p.mean_b)} (trained on ${p.trained_on === 'other' ? 'neither model' : p.trained_on === 'both' ? 'both (identical weights)' : p.trained_on.toUpperCase()}; n ${p.n})`);
    }
  }
  if (rep.directions?.length) lines.push('', `directions: ${rep.directions.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
