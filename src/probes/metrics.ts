/**
 * Probe metrics, computed in JS on scores and 0/1 labels. AUROC alone hides the tail: a
 * probe can have AUROC 0.98 and catch only 80% at 1% false positives, so both are reported.
 */
import { BonsaiError } from '../errors.ts';

export interface ProbeMetrics {
  auroc: number;
  /** True-positive rate at the largest threshold whose false-positive rate is ≤ 1%. */
  tpr_at_1fpr: number;
  /** F1 at the probe's chosen threshold. */
  f1: number;
  /** Expected calibration error over 10 equal-width bins of the predicted probability. */
  ece: number;
  n: number;
}

function check(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
  if (scores.length !== labels.length) throw new BonsaiError(`probe metrics: ${scores.length} scores for ${labels.length} labels`);
}

/** Area under the ROC curve via the rank statistic (ties count half). NaN without both classes. */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  check(scores, labels);
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1; // 1-based mean rank of the tie group
    for (let k = i; k <= j; k++) if (labels[idx[k]!]! > 0.5) (pos++, (rankSum += avgRank));
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** TPR at the best threshold with FPR ≤ maxFpr (thresholds taken at observed scores). */
export function tprAtFpr(scores: ArrayLike<number>, labels: ArrayLike<number>, maxFpr = 0.01): number {
  check(scores, labels);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const P = order.filter((i) => labels[i]! > 0.5).length;
  const N = order.length - P;
  if (P === 0 || N === 0) return NaN;
  let tp = 0;
  let fp = 0;
  let best = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) (labels[order[j]!]! > 0.5 ? tp++ : fp++, j++);
    if (fp / N <= maxFpr) best = tp / P;
    i = j;
  }
  return best;
}

/** F1 of `score ≥ threshold` as the positive prediction. */
export function f1At(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): number {
  check(scores, labels);
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]! >= threshold;
    const y = labels[i]! > 0.5;
    if (p && y) tp++;
    else if (p) fp++;
    else if (y) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** The threshold (an observed score) that maximises F1. */
export function bestF1Threshold(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const cands = [...new Set(Array.from(scores))].sort((a, b) => a - b);
  let best = 0.5, bestF1 = -1;
  // Subsample candidates on large sets: F1 is smooth enough in the threshold.
  const stride = Math.max(1, Math.floor(cands.length / 200));
  for (let i = 0; i < cands.length; i += stride) {
    const f = f1At(scores, labels, cands[i]!);
    if (f > bestF1) (bestF1 = f), (best = cands[i]!);
  }
  return best;
}

/** Expected calibration error: Σ_bins (n_b/n)·|mean(p) − mean(y)|, scores read as probabilities. */
export function calibrationError(probs: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): number {
  check(probs, labels);
  const sumP = new Float64Array(bins), sumY = new Float64Array(bins), cnt = new Float64Array(bins);
  for (let i = 0; i < probs.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(probs[i]! * bins)));
    sumP[b] += probs[i]!;
    sumY[b] += labels[i]! > 0.5 ? 1 : 0;
    cnt[b]++;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (cnt[b]! > 0) e += Math.abs(sumP[b]! - sumY[b]!) / probs.length;
  return e;
}

/** Every metric at once. */
export function probeMetrics(probs: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): ProbeMetrics {
  return {
    auroc: auroc(probs, labels),
    tpr_at_1fpr: tprAtFpr(probs, labels, 0.01),
    f1: f1At(probs, labels, threshold),
    ece: calibrationError(probs, labels),
    n: probs.length,
  };
}
