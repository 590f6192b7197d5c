/** Model diffing: what a training run changed, in weights, activations and probe readings. */
export { loadModelAt, checkComparable, type LoadedModel } from './load.ts';
export { weightDiff, type WeightDiff, type TensorChange, type HeadChange, type NeuronChange } from './weights.ts';
export { activationDiffLens, lensDirections, type LensLayer, type LensToken, type LensOptions } from './lens.ts';
export { probeDrift, type ProbeDrift } from './probes.ts';
export { readLensSequences, parsePositions } from './data.ts';
export { diffModels, diffReport, writeDiffReport, formatDiffSummary, DEFAULT_POSITIONS, type DiffOptions, type DiffResult, type DiffReport } from './report.ts';
