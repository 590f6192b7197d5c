/** Probes on a frozen copy: capture, training (logistic / MLP), metrics, save/load. */
export { captureFeatures, checkProbeHook, tokenFeatures, type Features, type ProbeExample, type ProbeLevel } from './capture.ts';
export { auroc, tprAtFpr, f1At, bestF1Threshold, calibrationError, probeMetrics, type ProbeMetrics } from './metrics.ts';
export { Probe, weightNames, type ProbeKindSpec, type ProbeMeta } from './probe.ts';
export { fitProbe, startProbeFit, type FitOptions, type ProbeEpoch, type ProbeFit } from './fit.ts';
export { fitProbeLoop, type FitLoopOptions, type FitLoopResult } from './fit-loop.ts';
export { saveProbe, loadProbe } from './io.ts';
export { LogitLens, LOGIT_LENS_HOOK } from './logit-lens.ts';
export { outOfFoldScores } from './crossfit.ts';
export { probeIntervention, type InterventionOptions } from './intervene.ts';
