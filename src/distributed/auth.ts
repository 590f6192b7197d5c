/**
 * Where the Ray dashboard's bearer token comes from, in Ray's own order (Ray >= 2.52):
 * `RAY_AUTH_TOKEN`, else the file named by `RAY_AUTH_TOKEN_PATH`, else `~/.ray/auth_token`.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';

/**
 * The token, or undefined when none is configured (clusters without token auth need none).
 * A `RAY_AUTH_TOKEN_PATH` that cannot be read is an error: the user asked for that file.
 */
export function resolveRayToken(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string | undefined {
  const direct = env.RAY_AUTH_TOKEN?.trim();
  if (direct) return direct;
  const path = env.RAY_AUTH_TOKEN_PATH?.trim();
  if (path) {
    try {
      return readFileSync(path, 'utf8').trim() || undefined;
    } catch (cause) {
      throw new BonsaiError(`cannot read the Ray auth token file "${path}" (RAY_AUTH_TOKEN_PATH): ${(cause as NodeJS.ErrnoException).code ?? cause}`, {
        hint: 'point RAY_AUTH_TOKEN_PATH at the token file, or set RAY_AUTH_TOKEN',
        cause,
      });
    }
  }
  try {
    return readFileSync(join(home, '.ray', 'auth_token'), 'utf8').trim() || undefined;
  } catch {
    return undefined; // no default file: the cluster may not use token auth
  }
}
