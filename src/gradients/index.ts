/** Gradient transforms: the stages between computing and applying an update. */
export { applyTransforms, type GradientTransform, type NamedGrads, type TransformContext, type TransformResult } from './transform.ts';
export { clipTransform, globalNorm } from './clip.ts';
export { projectOutTransform, observeTransform, type ProjectOutOptions, type SubspaceSource } from './project.ts';
export { pcgradTransform, pcgradCombine } from './pcgrad.ts';
export { Freezer, type FrozenMask } from './freeze.ts';
export { selectGlob, selectHeads, selectNeurons, unionSelections, selectionCounts, type Selection } from './select.ts';
export { attributionScores, selectTopPercent, attributionFilter } from './attribution.ts';
export { ablateHook, steerHook, hookWidth } from './interventions.ts';
export { collectActivations, meanDifference, pcaOfDifferences } from './directions.ts';
export { saveDirections, loadDirections, type DirectionsFile, type ActivationDirections, type GradientDirections } from './directions-file.ts';
export { collectKfacFactors, type KfacFactors, type KfacFactor, type FisherKind, type CollectOptions } from './kfac-factors.ts';
export { editWeight, factorEigen, checkFactorsFit, type TargetEditReport, type ComponentChoice, type FactorEigen } from './kfac-edit.ts';
export { linearSites, resolveTargets, DEFAULT_KFAC_TARGETS, type LinearSite } from './kfac-sites.ts';
export { saveKfacFactors, loadKfacFactors } from './kfac-io.ts';
export { runEdit, type EditResult, type EditRunOptions } from './kfac-job.ts';
