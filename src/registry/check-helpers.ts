/**
 * Checks shared by several component kinds: a hook that exists, a parameter glob that
 * matches, a file that reads. Each reports with a did-you-mean where one helps. All pure JS:
 * they read the model's layout (models/layout.ts), never a tensor.
 */
import { BonsaiError } from '../errors.ts';
import { globToRegExp } from '../util/glob.ts';
import type { ModelLayout } from '../models/layout.ts';
import type { CheckContext } from './kinds.ts';
import { closest, nearest } from './suggest.ts';
import type { PathSegment } from './kinds.ts';

/** Reports `hook` at `at` unless the model has it; names the nearest hook, or the kinds of hook there are. */
export function checkHook(hook: string, at: readonly PathSegment[], ctx: CheckContext): boolean {
  const model = ctx.model;
  if (!model || model.hooks.includes(hook)) return true;
  const n = model.config.nLayers;
  const block = /^blocks\.(\d+)\.(.+)$/.exec(hook);
  if (block && Number(block[1]) >= n && model.hooks.includes(`blocks.0.${block[2]}`)) {
    ctx.report(at, `unknown hook point "${hook}": the model has ${n} block${n === 1 ? '' : 's'} (blocks.0 … blocks.${n - 1})`);
    return false;
  }
  const near = closest(hook, model.hooks);
  const some = model.hooks.filter((h) => h.startsWith('blocks.0.') || !h.startsWith('blocks.'));
  const help = near ? `did you mean "${near}"?` : `valid hooks: ${some.join(', ')} (and the same in blocks.1 … blocks.${n - 1})`;
  ctx.report(at, `unknown hook point "${hook}"; ${help}`);
  return false;
}

/** The parameter paths a glob (`blocks.0.attn.*`) matches. */
function matchingParams(glob: string, model: ModelLayout): string[] {
  const re = globToRegExp(glob);
  return [...model.params.keys()].filter((p) => re.test(p));
}

/** What a parameter glob could have meant: every path, and every module prefix as `prefix.*`. */
function paramGlobs(model: ModelLayout): string[] {
  const globs = new Set<string>();
  for (const path of model.params.keys()) {
    const parts = path.split('.');
    for (let i = 1; i < parts.length; i++) globs.add(`${parts.slice(0, i).join('.')}.*`);
  }
  return [...globs, ...model.params.keys()];
}

/** Reports a parameter glob that matches no parameter, naming the nearest paths. */
export function checkParamGlob(glob: string, at: readonly PathSegment[], ctx: CheckContext): boolean {
  const model = ctx.model;
  if (!model || matchingParams(glob, model).length > 0) return true;
  const near = nearest(glob, paramGlobs(model));
  ctx.report(at, `"${glob}" matches no parameter; did you mean ${near.map((g) => `"${g}"`).join(', ')}? ("*" matches anything, dots included)`);
  return false;
}

/** Runs `read`, reporting a BonsaiError it throws at `at`; other errors are bugs and propagate. */
export function readOrReport<T>(read: () => T, at: readonly PathSegment[], ctx: CheckContext): T | undefined {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof BonsaiError)) throw e;
    ctx.report(at, e.message);
    return undefined;
  }
}
