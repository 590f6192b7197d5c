/**
 * The `bonsai ui` HTTP server: a fixed set of static files (the page, its modules and
 * uPlot from node_modules) and the JSON API (api.ts) over a RunStore. No URL path is ever
 * turned into a file path: static files come from a table built at start and run ids must
 * be 32 hex characters, so nothing outside the store and these assets can be served.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, sep } from 'node:path';
import type { RunStore } from '../tracking/store/types.ts';
import { handleApi } from './api.ts';
import type { LoadedDiff } from './diff-report.ts';

const STATIC_DIR = join(import.meta.dirname, 'static');
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot')));
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/**
 * URL path → file: the page, its modules under /js/ (listed once, at start) and uPlot from
 * node_modules. Read once at start, so a served file cannot change under us.
 */
function assetTable(): Record<string, string> {
  const table: Record<string, string> = {
    '/': join(STATIC_DIR, 'index.html'),
    '/app.css': join(STATIC_DIR, 'app.css'),
    '/vendor/uPlot.iife.min.js': join(UPLOT_DIR, 'uPlot.iife.min.js'),
    '/vendor/uPlot.min.css': join(UPLOT_DIR, 'uPlot.min.css'),
  };
  for (const f of readdirSync(join(STATIC_DIR, 'js'), { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.js')) table[`/js/${f.split(sep).join('/')}`] = join(STATIC_DIR, 'js', f);
  }
  return table;
}

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
export async function startUiServer(store: RunStore, opts: { host?: string; port?: number; diffs?: readonly LoadedDiff[] } = {}): Promise<UiServer> {
  const host = opts.host ?? '127.0.0.1';
  const assets = new Map(Object.entries(assetTable()).map(([path, file]) => [path, { body: readFileSync(file), type: `${TYPES[extname(file)]}; charset=utf-8` }]));
  const server = createServer((req, res) => {
    handle(req, res, store, assets, opts.diffs ?? [], isLoopback(host)).catch((e: unknown) => send(res, 500, { error: (e as Error).message }));
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

async function handle(req: IncomingMessage, res: ServerResponse, store: RunStore, assets: Assets, diffs: readonly LoadedDiff[], loopbackOnly: boolean): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET' });
  const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (loopbackOnly && !isLoopback(hostHeader)) return send(res, 403, { error: 'this server answers only to loopback host names' });
  const raw = (req.url ?? '/').split('?')[0]!;
  // Dot segments and encoded slashes or dots have no business in any URL this server has.
  if (/(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\/i.test(raw)) return send(res, 400, { error: 'bad path' });
  const url = new URL(req.url ?? '/', 'http://x');
  const asset = assets.get(url.pathname);
  if (asset) return sendRaw(res, 200, asset.body, asset.type);
  if (!(await handleApi(url, res, store, diffs, send))) send(res, 404, { error: 'not found' });
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
