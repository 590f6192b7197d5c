/**
 * `bonsai/node`: the parts that are services around training rather than the library itself
 * — an MLflow server client (REST tracking, the spool, `runs push`), the run store the page
 * and `bonsai runs` read, the page's server, the Ray cluster client and sweeps, and the HTTP
 * reward server. They need Node's http, child_process and file system, so they live behind
 * this subpath: an app that bundles `bonsai` for the browser never pulls them in.
 */
export * from './distributed/index.ts';
export * from './server/index.ts';
export {
  resolveTrackingUri,
  DEFAULT_TRACKING_URI,
  RestMlflowTracker,
  MlflowRestClient,
  MlflowHttpError,
  pushRun,
  readSpool,
  type RestTrackerOptions,
  type PushResult,
  type SpoolContents,
} from './tracking/index.ts';
export {
  LocalRunStore,
  RestRunStore,
  resolveRun,
  type RunStore,
  type RunSummary,
  type ExperimentSummary,
  type MetricPoint,
  type RunStatus,
} from './tracking/store/index.ts';
export { startUiServer, type UiServer } from './ui/server.ts';
