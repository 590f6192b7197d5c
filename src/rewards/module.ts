/**
 * `module` rewards: a user's JS/TS file whose export (default, or `export_name`) is
 * `(batch: { texts, completions, answers, prompts }) => number[]` (or a Promise of one): one
 * score per rollout — or `number[][]`, one array per rollout with a score per completion
 * token (`completions[i].length` of them): a per-token reward. It runs with the same trust
 * as the recipe that names it.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BonsaiError } from '../errors.ts';
import type { Reward, RewardScores } from './types.ts';

/** A module reward's export: per rollout, its completion text and tokens, its prompt text and reference answer → a score per rollout, or per completion token. */
export type UserRewardFn = (batch: {
  texts: string[];
  completions: number[][];
  prompts: string[];
  answers: Array<string | undefined>;
}) => RewardScores | Promise<RewardScores>;

/** Imports `path` and returns its reward function as a Reward. */
export async function moduleReward(name: string, weight: number, path: string, exportName = 'default'): Promise<Reward> {
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(path);
  } catch (e) {
    throw new BonsaiError(`reward "${name}": cannot import ${path}: ${(e as Error).message}`);
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    throw new BonsaiError(`reward "${name}": ${path} has no function export "${exportName}" (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  }
  return {
    name,
    weight,
    score: (b) => (fn as UserRewardFn)({ texts: b.texts, completions: b.completions, prompts: b.prompts, answers: b.answers }),
  };
}

/**
 * Imports a JS or TS module. Under tsx (bin/run-ts.js, a source checkout) and vitest a .ts
 * file imports as it is; the compiled package runs on plain Node, which cannot load .ts, so
 * there it goes through tsx's tsImport when tsx is installed.
 */
async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(path)).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?ts$/.test(path)) throw e;
    let tsx: { tsImport(specifier: string, parent: string): Promise<unknown> };
    try {
      const spec: string = 'tsx/esm/api'; // a variable: tsx is a devDependency, not a dependency
      tsx = (await import(spec)) as typeof tsx;
    } catch {
      throw new Error('a TypeScript module needs tsx to load (npm install --save-dev tsx), or compile it to .mjs');
    }
    return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
}

