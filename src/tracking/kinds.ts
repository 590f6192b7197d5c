/**
 * Tracker kinds (the recipe's `tracking.uri`, as MLflow's own tracking URI): `none`, a
 * local MLflow file store, or an MLflow server. The kind is told by the URI's form; each
 * entry says which URIs are its own and builds its tracker (no tensors, so both live here).
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BonsaiError } from '../errors.ts';
import { LocalMlflowTracker } from './local-tracker.ts';
import { NullTracker } from './null-tracker.ts';
import { RestMlflowTracker, type RestTrackerOptions } from './rest-tracker.ts';
import type { Tracker } from './types.ts';

interface TrackerKind {
  describe: string;
  /** True when `uri` (trimmed) is this kind's. */
  matches(uri: string): boolean;
  build(uri: string, opts: RestTrackerOptions): Tracker;
}

/** Every tracker kind, tried in this order. */
export const trackerKinds = {
  none: { describe: '"none": log nothing', matches: (u) => u.toLowerCase() === 'none', build: () => new NullTracker() },
  http: { describe: 'http(s)://host:port: an MLflow server', matches: (u) => /^https?:\/\//i.test(u), build: (u, opts) => new RestMlflowTracker(u, opts) },
  file: {
    describe: 'a folder or file: URI: MLflow file store',
    matches: (u) => u !== '' && (/^file:/i.test(u) || !/^[a-z][a-z0-9+.-]+:/i.test(u) || isAbsolute(u)),
    // file:///abs is a URL; MLflow also accepts file:./relative, which URL parsing would mangle.
    build: (u) => new LocalMlflowTracker(/^file:/i.test(u) ? (u.startsWith('file://') ? fileURLToPath(u) : u.slice('file:'.length)) : u),
  },
} as const satisfies Record<string, TrackerKind>;

/** The kind of tracker a URI names, or a BonsaiError saying why none does. */
export function trackerKindOf(uri: string, defaultUri: string): keyof typeof trackerKinds {
  const u = uri.trim();
  if (u === '') throw new BonsaiError('tracking uri is empty', { hint: `use "none", a folder such as ${defaultUri}, or leave it unset` });
  const kind = (Object.keys(trackerKinds) as Array<keyof typeof trackerKinds>).find((k) => trackerKinds[k].matches(u));
  if (kind) return kind;
  // A scheme (sqlite:, databricks, s3:) is not a path; a Windows drive letter (C:\) is.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(u)!;
  throw new BonsaiError(`tracking uri scheme "${scheme[1]}:" is not supported`, {
    hint: `use "none", a local folder such as ${defaultUri}, or an MLflow server http(s)://host:5000`,
  });
}
