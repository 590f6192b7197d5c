/**
 * Probe drift: a probe's AUROC and mean score on both models of a diff, on the same
 * labelled data. A probe is fingerprinted to the model it was trained on, and loading it
 * elsewhere is normally refused; a diff reads it on both sides on purpose (that is the
 * question: does what the probe reads still mean the same on B?), so the fingerprint is
 * checked and reported (`trained_on`), never used to refuse.
 */
import { BonsaiError } from '../errors.ts';
import type { CausalLM } from '../models/model.ts';
import { captureFeatures, type ProbeExample } from '../probes/capture.ts';
import { loadProbe } from '../probes/io.ts';
import { auroc } from '../probes/metrics.ts';

export interface ProbeDrift {
  name: string;
  /** The probe's folder. */
  dir: string;
  auroc_a: number;
  auroc_b: number;
  mean_a: number;
  mean_b: number;
  /** Which model the probe's fingerprint matches: A, B, both (identical weights) or neither. */
  trained_on: 'a' | 'b' | 'both' | 'other';
  /** Scored rows (positions or sequences, per the probe's level). */
  n: number;
}

/**
 * Scores the probe in `dir` on A and B over `examples` (labelled; see probeExamples).
 * NaN AUROC when the examples hold only one class.
 */
export function probeDrift(dir: string, a: CausalLM, b: CausalLM, examples: ProbeExample[]): ProbeDrift {
  if (!examples.length) throw new BonsaiError(`probe ${dir}: no labelled examples to score it on`);
  const probe = loadProbe(dir, a, { allowOtherModel: true });
  try {
    const { hook, level, fingerprint } = probe.meta;
    const side = (m: CausalLM) => {
      const f = captureFeatures(m, hook, level, examples);
      const s = probe.scoreRows(f.X, f.n);
      return { auroc: auroc(s, f.y), mean: s.reduce((x, y) => x + y, 0) / Math.max(1, f.n), n: f.n };
    };
    const [ra, rb] = [side(a), side(b)];
    const [fa, fb] = [a.fingerprint() === fingerprint, b.fingerprint() === fingerprint];
    return {
      name: probe.meta.name, dir, auroc_a: ra.auroc, auroc_b: rb.auroc, mean_a: ra.mean, mean_b: rb.mean,
      trained_on: fa && fb ? 'both' : fa ? 'a' : fb ? 'b' : 'other', n: ra.n,
    };
  } finally {
    probe.dispose();
  }
}
