/**
 * The HTTP reward server on node:http. Every answer is JSON; every failure a client can
 * cause is a 4xx with {error}; nothing a client sends can throw past the handler. close()
 * drains: it stops accepting, lets requests in flight finish, then resolves.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkBearer } from './auth.ts';
import { DynamicBatcher } from './batcher.ts';
import { ROUTES, type Limits, type QueuedSequence, type RouteContext } from './routes.ts';
import type { RewardScorer, SequenceScore } from './scorer.ts';
import { HttpError, parseJsonBody } from './validate.ts';

export interface ServeOptions extends Limits {
  host: string;
  /** 0 picks a free port (the bound URL is in RewardServer.url). */
  port: number;
  /** Required bearer token; none = open (loopback only is the default for that reason). */
  token?: string;
  /** Most sequences in one frozen pass. */
  batchSize: number;
  /** How long the first queued sequence waits for others before its pass runs. */
  maxWaitMs: number;
  /** Where internal errors are reported (default stderr). */
  log?: (line: string) => void;
}

export interface RewardServer {
  url: string;
  server: Server;
  batcher: DynamicBatcher<QueuedSequence, SequenceScore>;
  /** Stops accepting, waits for requests in flight (and queued passes), then closes every connection. */
  close(): Promise<void>;
}

export async function startRewardServer(scorer: RewardScorer, o: ServeOptions): Promise<RewardServer> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const batcher = new DynamicBatcher<QueuedSequence, SequenceScore>(
    (items) => scorer.score(items.map((i) => i.text), items.map((i) => i.tokens)),
    { maxBatch: o.batchSize, maxWaitMs: o.maxWaitMs },
  );
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const limits: Limits = { maxBodyBytes: o.maxBodyBytes, maxBatch: o.maxBatch, maxSeqLen: Math.min(o.maxSeqLen, scorer.nCtx), timeoutMs: o.timeoutMs };
  const ctx: RouteContext = { scorer, batcher, limits, batching: { batchSize: o.batchSize, maxWaitMs: o.maxWaitMs }, inFlight: () => inFlight, draining: () => draining };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new HttpError(503, `not answered within ${o.timeoutMs} ms (--timeout-ms); the server is busy: retry, or send smaller batches`)), o.timeoutMs);
    // A client that hangs up (e.g. its own timeout, then a retry) takes its queued sequences with it.
    res.once('close', () => res.writableFinished || abort.abort(new HttpError(499, 'the client closed the connection')));
    try {
      const path = pathOf(req.url);
      const route = ROUTES[path];
      if (!route) throw new HttpError(404, `no endpoint ${path}; try POST /get_reward, POST /v1/rewards, GET /v1/info, GET /health`);
      if (req.method !== route.method) throw new HttpError(405, `${path} takes ${route.method}, not ${req.method}`, { Allow: route.method });
      if (route.auth) checkBearer(req, o.token);
      let body: unknown;
      if (route.method === 'POST') {
        const type = String(req.headers['content-type'] ?? '');
        if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, `send the body as JSON with "Content-Type: application/json" (got ${type ? JSON.stringify(type) : 'none'})`);
        body = parseJsonBody(await readBody(req, limits.maxBodyBytes, o.timeoutMs, abort.signal));
      }
      send(res, 200, await route.handle(ctx, body, abort.signal), draining);
    } catch (e) {
      if (e instanceof HttpError) send(res, e.status, { error: e.message }, draining || e.status === 413 || e.status === 408, e.headers);
      else {
        // A reward that throws, or a bug: the client learns it failed (500), the server keeps serving.
        log(`bonsai serve-reward: ${req.method} ${req.url} failed: ${(e as Error)?.stack ?? String(e)}`);
        send(res, 500, { error: `scoring failed: ${(e as Error)?.message ?? String(e)}` }, draining);
      }
    } finally {
      clearTimeout(timer);
      inFlight--;
      if (draining && inFlight === 0) drained?.();
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  // Malformed HTTP (not a request the handler could see): answer 400 if the socket can still take it.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"malformed HTTP request"}');
    else socket.destroy();
  });
  server.headersTimeout = Math.min(o.timeoutMs, 60_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => (server.off('error', reject), resolve()));
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    batcher,
    async close() {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      if (inFlight > 0) await new Promise<void>((r) => (drained = r));
      await batcher.idle();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The body, up to `max` bytes: more is a 413, a body still arriving when `signal` fires a 408. */
function readBody(req: IncomingMessage, max: number, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooBig = () => new HttpError(413, `the body is over ${max} bytes (--max-body-bytes); send smaller batches`);
  if (declared > max) return Promise.reject(tooBig());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onAbort = () => reject(new HttpError(408, `the body did not arrive within ${timeoutMs} ms (--timeout-ms)`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= max) chunks.push(c);
      else if (chunks.length) chunks.length = 0; // keep reading (and dropping) so the client gets its 413
    });
    req.on('end', () => (signal.removeEventListener('abort', onAbort), n > max ? reject(tooBig()) : resolve(Buffer.concat(chunks))));
    req.on('error', (e) => (signal.removeEventListener('abort', onAbort), reject(new HttpError(400, `reading the body failed: ${e.message}`))));
  });
}

/** The request target's path; one that does not parse (e.g. `http://[`) is a 400, not a 500. */
function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    throw new HttpError(400, `the request target ${JSON.stringify(url)} is not a URL path`);
  }
}

function send(res: ServerResponse, status: number, body: unknown, close: boolean, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...(close ? { Connection: 'close' } : {}), ...headers });
  res.end(text);
}
