/**
 * Bearer-token auth. A missing token is 401 (with
 * WWW-Authenticate, as RFC 6750 asks); a wrong one is 403. Tokens are compared in constant
 * time so the answer's timing does not leak how much of a guess was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './validate.ts';

/** The environment variable read when --token is not given. */
export const TOKEN_ENV = 'BONSAI_REWARD_TOKEN';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Throws 401/403 unless the request carries `Authorization: Bearer <token>`; no-op without a token. */
export function checkBearer(req: IncomingMessage, token: string | undefined): void {
  if (!token) return;
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw new HttpError(401, 'this server needs a bearer token: send "Authorization: Bearer <token>"', { 'WWW-Authenticate': 'Bearer realm="bonsai"' });
  // Hash both sides first: timingSafeEqual needs equal lengths, and the hash hides the length.
  if (!timingSafeEqual(digest(m[1]!), digest(token))) throw new HttpError(403, 'the bearer token is wrong');
}
