/**
 * Tracking: where a run's params, metrics, tags and artifacts go. `createTracker(uri)`
 * picks the backend from one setting, as MLflow's own tracking URI does.
 */
import { trackerKindOf, trackerKinds } from './kinds.ts';
import type { RestTrackerOptions } from './rest-tracker.ts';
import type { Tracker } from './types.ts';

export type { ResumedRun, RunEndStatus, StartedRun, StartRunOptions, Tracker } from './types.ts';
export { RunNotResumable } from './types.ts';
export { LocalMlflowTracker } from './local-tracker.ts';
export { NullTracker } from './null-tracker.ts';
export { RestMlflowTracker, type RestTrackerOptions } from './rest-tracker.ts';
export { trackerKinds, trackerKindOf } from './kinds.ts';
export { MlflowRestClient, MlflowHttpError, apiMetricValue, type ApiMetric, type ApiRun, type ApiRunInfo, type KeyValue } from './rest-client.ts';
export { pushRun, type PushResult } from './push.ts';
export { readSpool, type SpoolContents } from './spool.ts';
export { flattenParams } from './flatten.ts';
export { PARENT_RUN_ENV, RUN_TAGS_ENV, childRunEnv, inheritedRunContext, type InheritedRunContext } from './run-env.ts';
export { isValidKey, sanitizeKey, pythonFloatRepr, truncateValue, MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH } from './keys.ts';

/** Where runs go when neither the recipe nor the environment says: MLflow's old default. */
export const DEFAULT_TRACKING_URI = './mlruns';

/** The tracking URI in force: the recipe's, else `MLFLOW_TRACKING_URI`, else `./mlruns`. */
export function resolveTrackingUri(recipeUri?: string, env: NodeJS.ProcessEnv = process.env): string {
  return recipeUri || env.MLFLOW_TRACKING_URI || DEFAULT_TRACKING_URI;
}

/**
 * The tracker for a URI: `none` writes nothing; a path or `file:` URI writes MLflow's file
 * store there; `http(s)://` logs to an MLflow server (auth, TLS and retries from MLFLOW_*
 * variables), spooling to the run's folder whenever the server cannot be reached.
 */
export function createTracker(uri: string, opts: RestTrackerOptions = {}): Tracker {
  return trackerKinds[trackerKindOf(uri, DEFAULT_TRACKING_URI)].build(uri.trim(), opts);
}
