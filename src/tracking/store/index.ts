/** Reading tracked runs back: the local MLflow layout, behind the `RunStore` interface. */
export type { ExperimentSummary, MetricPoint, RunStatus, RunStore, RunSummary, StoreListing, Unreadable } from './types.ts';
export { LocalRunStore } from './local.ts';
export { RestRunStore } from './rest.ts';
export { latestPoint, sortHistory } from './metric-file.ts';
export { parseMetricLines } from '../layout.ts';
export { resolveRun } from './resolve.ts';
export { differingParams, formatValue, metricKeys } from './compare.ts';
