/** Gradient transforms: the stages between computing and applying an update. */
export { applyTransforms, type GradientTransform, type NamedGrads, type TransformContext, type TransformResult } from './transform.ts';
export { clipTransform, globalNorm } from './clip.ts';
