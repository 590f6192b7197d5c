/**
 * The `bonsai ui` HTTP server: a fixed set of static files (the page and uPlot from
 * node_modules) and a small JSON API over a RunStore. No URL path is ever turned into a
 * file path: static files come from a fixed table and run ids must be 32 hex characters,
 * so nothing outside the store and these assets can be served, whatever the URL spells.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { differingParams } from '../tracking/store/compare.ts';
import type { RunStore } from '../tracking/store/types.ts';

const RUN_ID = /^[0-9a-f]{32}$/;
const STATIC_DIR = join(import.meta.dirname, 'static');
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot')));

/** URL path → [file, content type]; read once at start, so a served file cannot change under us. */
const ASSETS: Record<string, [string, string]> = {
  '/': [join(STATIC_DIR, 'index.html'), 'text/html; charset=utf-8'],
  '/app.js': [join(STATIC_DIR, 'app.js'), 'text/javascript; charset=utf-8'],
  '/app.css': [join(STATIC_DIR, 'app.css'), 'text/css; charset=utf-8'],
  '/vendor/uPlot.iife.min.js': [join(UPLOT_DIR, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  '/vendor/uPlot.min.css': [join(UPLOT_DIR, 'uPlot.min.css'), 'text/css; charset=utf-8'],
};

/** A running ui server. */
export interface UiServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** True for hosts only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Starts serving `store` on `host:port` (port 0 picks a free one). On a loopback host,
 * requests naming another Host header are refused, so a web page elsewhere cannot reach
 * the API through DNS rebinding.
 */
export async function startUiServer(store: RunStore, opts: { host?: string; port?: number } = {}): Promise<UiServer> {
  const host = opts.host ?? '127.0.0.1';
  const assets = new Map(Object.entries(ASSETS).map(([path, [file, type]]) => [path, { body: readFileSync(file), type }]));
  const server = createServer((req, res) => {
    handle(req, res, store, assets, isLoopback(host)).catch((e: unknown) => send(res, 500, { error: (e as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    server,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

type Assets = Map<string, { body: Buffer; type: string }>;

async function handle(req: IncomingMessage, res: ServerResponse, store: RunStore, assets: Assets, loopbackOnly: boolean): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET' });
  const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (loopbackOnly && !isLoopback(hostHeader)) return send(res, 403, { error: 'this server answers only to loopback host names' });
  const raw = (req.url ?? '/').split('?')[0]!;
  // Dot segments and encoded slashes or dots have no business in any URL this server has.
  if (/(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\/i.test(raw)) return send(res, 400, { error: 'bad path' });
  const url = new URL(req.url ?? '/', 'http://x');
  const asset = assets.get(url.pathname);
  if (asset) return sendRaw(res, 200, asset.body, asset.type);
  if (url.pathname === '/api/runs') {
    const l = await store.list({ experiment: url.searchParams.get('experiment') ?? undefined });
    return send(res, 200, { location: store.location, ...l });
  }
  if (url.pathname === '/api/params') {
    const ids = (url.searchParams.get('runs') ?? '').split(',').filter(Boolean);
    if (!ids.every((id) => RUN_ID.test(id))) return send(res, 400, { error: 'runs must be run ids' });
    const runs = (await store.list()).runs.filter((r) => ids.includes(r.id));
    return send(res, 200, { differing: differingParams(runs), params: Object.fromEntries(runs.map((r) => [r.id, r.params])) });
  }
  const m = /^\/api\/runs\/([^/]+)\/metrics$/.exec(url.pathname);
  if (m) {
    if (!RUN_ID.test(m[1]!)) return send(res, 400, { error: 'not a run id' });
    const histories = await store.histories(m[1]!).catch(() => undefined);
    if (!histories) return send(res, 404, { error: 'no such run' });
    // Columns, not points: a long history is a third the size, and it is what uPlot takes.
    const metrics = Object.fromEntries(Object.entries(histories).map(([k, pts]) => [k, {
      step: pts.map((p) => p.step), time: pts.map((p) => p.timestamp), value: pts.map((p) => p.value),
    }]));
    return send(res, 200, { id: m[1], metrics });
  }
  return send(res, 404, { error: 'not found' });
}

/** JSON (NaN and ±Infinity become null, which the page draws as gaps). */
function send(res: ServerResponse, code: number, body: unknown): void {
  sendRaw(res, code, Buffer.from(JSON.stringify(body)), 'application/json; charset=utf-8');
}

function sendRaw(res: ServerResponse, code: number, body: Buffer, type: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(code, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'",
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
