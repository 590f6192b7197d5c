/** Reading tracked runs back, behind the `RunStore` interface: the local MLflow file layout (LocalRunStore) or an MLflow tracking server over REST (RestRunStore). */
export type { ExperimentSummary, MetricPoint, RunStatus, RunStore, RunSummary, StoreListing, Unreadable } from './types.ts';
export { LocalRunStore } from './local.ts';
export { RestRunStore } from './rest.ts';
export { latestPoint, sortHistory } from './metric-file.ts';
export { parseMetricLines } from '../layout.ts';
export { resolveRun } from './resolve.ts';
export { differingParams, formatValue, metricKeys } from './compare.ts';
