/**
 * The tags MLflow's UI reads for a run (specs/mlflow.md §1), the same for every backend so
 * a run looks alike in the local store and on a server.
 */
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import type { StartRunOptions } from './types.ts';

/** The OS user, as MLflow records it; 'unknown' without a passwd entry (some containers). */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

let commit: string | null | undefined;
/** HEAD's commit when the working directory is in a git repository (asked once per process). */
function gitCommit(): string | undefined {
  if (commit === undefined) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim() || null;
    } catch {
      commit = null; // not a repository, or no git: the tag is simply left out
    }
  }
  return commit ?? undefined;
}

/** `mlflow.*` tags for a new run, then the caller's own (which may override them). */
export function defaultRunTags(opts: StartRunOptions): Record<string, string> {
  const git = gitCommit();
  return {
    'mlflow.runName': opts.runName,
    'mlflow.user': currentUser(),
    'mlflow.source.name': process.argv[1] ? basename(process.argv[1]) : 'bonsai',
    'mlflow.source.type': 'LOCAL',
    ...(git ? { 'mlflow.source.git.commit': git } : {}),
    ...(opts.parentRunId ? { 'mlflow.parentRunId': opts.parentRunId } : {}),
    ...(opts.description ? { 'mlflow.note.content': opts.description } : {}),
    ...opts.tags,
  };
}
