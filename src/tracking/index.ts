/**
 * Tracking: where a run's params, metrics, tags and artifacts go. `createTracker(uri)`
 * picks the backend from one setting, as MLflow's own tracking URI does.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BonsaiError } from '../errors.ts';
import { LocalMlflowTracker } from './local-tracker.ts';
import { NullTracker } from './null-tracker.ts';
import type { Tracker } from './types.ts';

export type { RunEndStatus, StartedRun, StartRunOptions, Tracker } from './types.ts';
export { LocalMlflowTracker } from './local-tracker.ts';
export { NullTracker } from './null-tracker.ts';
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
 * store there; `http(s)://` (an MLflow server) is not supported yet and is refused up front
 * rather than failing mid-run.
 */
export function createTracker(uri: string): Tracker {
  const u = uri.trim();
  if (u.toLowerCase() === 'none') return new NullTracker();
  if (u === '') throw new BonsaiError('tracking uri is empty', { hint: `use "none", a folder such as ${DEFAULT_TRACKING_URI}, or leave it unset` });
  if (/^https?:\/\//i.test(u)) {
    throw new BonsaiError('MLflow server tracking arrives in a later release; use a local path', {
      hint: `set tracking.uri to a folder such as ${DEFAULT_TRACKING_URI}, then view it with: MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ${DEFAULT_TRACKING_URI}`,
    });
  }
  if (/^file:/i.test(u)) {
    // file:///abs is a URL; MLflow also accepts file:./relative, which URL parsing would mangle.
    return new LocalMlflowTracker(u.startsWith('file://') ? fileURLToPath(u) : u.slice('file:'.length));
  }
  // A scheme (sqlite:, databricks, s3:) is not a path; a Windows drive letter (C:\) is.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(u);
  if (scheme && !isAbsolute(u)) {
    throw new BonsaiError(`tracking uri scheme "${scheme[1]}:" is not supported`, {
      hint: `use "none" or a local folder such as ${DEFAULT_TRACKING_URI}`,
    });
  }
  return new LocalMlflowTracker(u);
}
