/**
 * What a failed request to the Ray dashboard means to the user: which address could not
 * be reached and why, which token to set, or Ray's own text (plain text, often a Python
 * traceback) as Ray wrote it.
 */
import { BonsaiError } from '../errors.ts';

/** The request never got an answer: refused, unknown host, timeout. */
export function unreachable(address: string, method: string, path: string, cause: unknown): BonsaiError {
  const c = (cause as { cause?: { code?: string; message?: string } }).cause;
  const why = (cause as Error).name === 'TimeoutError' ? 'no answer in time' : c?.code ?? c?.message ?? String(cause);
  return new BonsaiError(`cannot reach the Ray dashboard at ${address} (${method} ${path}: ${why})`, {
    hint: 'check --address / RAY_ADDRESS (the dashboard, default port 8265) and that the cluster is up',
    cause,
  });
}

/** The dashboard answered with an error status. */
export function refusal(method: string, url: string, status: number, text: string): BonsaiError {
  const said = text.trim();
  if (status === 401) {
    return new BonsaiError(`the Ray dashboard refused ${method} ${url}: no auth token (401)${said ? `: ${said}` : ''}`, {
      hint: 'set RAY_AUTH_TOKEN, or RAY_AUTH_TOKEN_PATH to the token file (default ~/.ray/auth_token)',
    });
  }
  if (status === 403) {
    return new BonsaiError(`the Ray dashboard refused ${method} ${url}: the auth token is not valid (403)${said ? `: ${said}` : ''}`, {
      hint: "use the cluster's token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token)",
    });
  }
  if (status === 404 && /\/api\/jobs\/[^/]+/.test(url)) {
    return new BonsaiError(`Ray says: ${said || 'not found'} (404 from ${method} ${url})`, { hint: 'see `bonsai ray list` for the jobs this cluster knows' });
  }
  const notRay = status === 404 && url.endsWith('/api/version');
  return new BonsaiError(`Ray answered ${status} to ${method} ${url}:\n${said || '(no text)'}`, {
    hint: notRay ? 'this does not look like a Ray dashboard: use http://<head>:8265 (Ray 2.x)' : undefined,
  });
}
