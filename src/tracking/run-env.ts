/**
 * How a sweep tells a point's `bonsai train` where its run belongs: two environment
 * variables, read when the run opens (trainer/tracking-run.ts). Environment, not flags, so
 * the same `bonsai train RECIPE --set …` command serves a local subprocess and a Ray job
 * (whose `runtime_env.env_vars` carry them), and a user's own launcher can set them too.
 */
import { BonsaiError } from '../errors.ts';

/** The parent run's id: the child run gets `mlflow.parentRunId`, which nests it in MLflow's UI. */
export const PARENT_RUN_ENV = 'BONSAI_PARENT_RUN_ID';
/** A JSON object of extra run tags (string values), e.g. the sweep id and the point's values. */
export const RUN_TAGS_ENV = 'BONSAI_RUN_TAGS';

/** What a run inherits from its environment. */
export interface InheritedRunContext {
  parentRunId?: string;
  tags: Record<string, string>;
}

/** The variables that put a run under `parentRunId` with `tags`. */
export function childRunEnv(parentRunId: string, tags: Record<string, string>): Record<string, string> {
  return { [PARENT_RUN_ENV]: parentRunId, [RUN_TAGS_ENV]: JSON.stringify(tags) };
}

/** Reads the variables; a malformed BONSAI_RUN_TAGS is a user error, said before the run opens. */
export function inheritedRunContext(env: NodeJS.ProcessEnv = process.env): InheritedRunContext {
  const parentRunId = env[PARENT_RUN_ENV]?.trim() || undefined;
  const text = env[RUN_TAGS_ENV]?.trim();
  if (!text) return { parentRunId, tags: {} };
  let tags: unknown;
  try {
    tags = JSON.parse(text);
  } catch {
    tags = undefined;
  }
  const ok = tags !== null && typeof tags === 'object' && !Array.isArray(tags) && Object.values(tags).every((v) => typeof v === 'string');
  if (!ok) {
    throw new BonsaiError(`${RUN_TAGS_ENV} must be a JSON object of string values, got ${JSON.stringify(text.slice(0, 80))}`, {
      hint: `e.g. ${RUN_TAGS_ENV}='{"team": "probes"}', or unset it`,
    });
  }
  return { parentRunId, tags: tags as Record<string, string> };
}
