/**
 * Running bonsai on a Ray cluster: a client for Ray's Jobs REST API, the shipped working
 * directory (a deterministic, content-named zip), one recipe submitted as one job, and
 * sweeps (a grid or random search, run locally or one Ray job per point).
 * See docs/cluster.md.
 */
export { RayJobsClient, normalizeAddress, TERMINAL_STATUSES, type RayJobInfo, type RayJobStatus, type RayJobSubmission, type RayClientOptions } from './client.ts';
export { resolveRayToken } from './auth.ts';
export { listShippedFiles, packWorkingDir, maxPackageBytes, ALWAYS_EXCLUDED, DEFAULT_MAX_PACKAGE_BYTES, type WorkingDirPackage } from './package.ts';
export { submitRecipeJob, type RecipeJobRequest, type RecipeJobSubmitted } from './submit.ts';
export { shellQuote, trainEntrypoint } from './entrypoint.ts';
export { writeZip, crc32, type ZipEntry } from './zip.ts';
export { planSweep, type SweepPlan, type SweepFlags, type PlannedPoint } from './sweep/plan.ts';
export { runSweep, type SweepRunOptions, type SweepResult, type PointRunner } from './sweep/run.ts';
export { sweepStatus, statusText } from './sweep/status.ts';
