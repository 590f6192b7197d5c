import { describe, expect, it } from 'vitest';
import { auroc, bestF1Threshold, calibrationError, f1At, tprAtFpr } from '../../src/probes/index.ts';

describe('probe metrics on data with known answers', () => {
  it('AUROC: sklearn example is 0.75; perfect is 1, reversed 0, ties count half', () => {
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auroc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(auroc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
    expect(auroc([5, 5, 5, 5], [0, 1, 0, 1])).toBe(0.5);
    expect(auroc([1, 2], [1, 1])).toBeNaN();
  });

  it('TPR at 1% FPR counts only thresholds that keep FPR ≤ 1%', () => {
    // 100 negatives at 0..0.495; one negative scores 0.995, above 3 of the 4 positives.
    const neg = Array.from({ length: 100 }, (_, i) => i / 200);
    neg[99] = 0.995;
    const scores = [...neg, 0.999, 0.99, 0.98, 0.97];
    const labels = [...neg.map(() => 0), 1, 1, 1, 1];
    // FPR 1/100 = 1% is allowed, so every positive above the next negative (0.49) counts.
    expect(tprAtFpr(scores, labels, 0.01)).toBe(1);
    expect(tprAtFpr(scores, labels, 0.0)).toBe(0.25);
  });

  it('F1 at a threshold and the F1-best threshold', () => {
    // predictions at 0.5: TP=2, FP=1, FN=1 → F1 = 4/6
    expect(f1At([0.9, 0.6, 0.7, 0.2], [1, 1, 0, 1], 0.5)).toBeCloseTo(2 / 3, 12);
    expect(bestF1Threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(0.8);
  });

  it('calibration error: 0 when calibrated, the gap when not', () => {
    const labels = Array.from({ length: 10 }, (_, i) => (i < 7 ? 1 : 0));
    expect(calibrationError(labels.map(() => 0.7), labels)).toBeCloseTo(0, 12);
    expect(calibrationError(labels.map(() => 0.95), labels)).toBeCloseTo(0.25, 12);
  });
});
