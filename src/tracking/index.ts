/**
 * Tracking: where a run's params, metrics, tags and artifacts go. `createTracker(uri)`
 * picks the backend from one setting, as MLflow's own tracking URI does.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BonsaiError } from '../errors.ts';
import { LocalMlflowTracker } from './local-tracker.ts';
import { NullTracker } from './null-tracker.ts';
import { RestMlflowTracker, type RestTrackerOptions } from './rest-tracker.ts';
import type { Tracker } from './types.ts';

export type { ResumedRun, RunEndStatus, StartedRun, StartRunOptions, Tracker } from './types.ts';
export { RunNotResumable } from './types.ts';
export { LocalMlflowTracker } from './local-tracker.ts';
export { NullTracker } from './null-tracker.ts';
export { RestMlflowTracker, type RestTrackerOptions } from './rest-tracker.ts';
export { MlflowRestClient, MlflowHttpError, apiMetricValue, type ApiMetric, type ApiRun, type ApiRunInfo, type KeyValue } from './rest-client.ts';
export { pushRun, type PushResult } from './push.ts';
export { readSpool, type SpoolContents } from './spool.ts';
export { flattenParams } from './flatten.ts';
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
  const u = uri.trim();
  if (u.toLowerCase() === 'none') return new NullTracker();
  if (u === '') throw new BonsaiError('tracking uri is empty', { hint: `use "none", a folder such as ${DEFAULT_TRACKING_URI}, or leave it unset` });
  if (/^https?:\/\//i.test(u)) return new RestMlflowTracker(u, opts);
  if (/^file:/i.test(u)) {
    // file:///abs is a URL; MLflow also accepts file:./relative, which URL parsing would mangle.
    return new LocalMlflowTracker(u.startsWith('file://') ? fileURLToPath(u) : u.slice('file:'.length));
  }
  // A scheme (sqlite:, databricks, s3:) is not a path; a Windows drive letter (C:\) is.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(u);
  if (scheme && !isAbsolute(u)) {
    throw new BonsaiError(`tracking uri scheme "${scheme[1]}:" is not supported`, {
      hint: `use "none", a local folder such as ${DEFAULT_TRACKING_URI}, or an MLflow server http(s)://host:5000`,
    });
  }
  return new LocalMlflowTracker(u);
}
