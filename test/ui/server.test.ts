import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRunStore } from '../../src/tracking/store/index.ts';
import { startUiServer, type UiServer } from '../../src/ui/server.ts';
import { join } from 'node:path';
import { loadDiffReport } from '../../src/ui/diff-report.ts';
import { tempDir } from '../helpers/recipes.ts';
import { storeWithJunk } from '../tracking/store/fixtures.ts';
import { writeDiffReport } from './fixtures.ts';

/** GET with the path sent byte for byte (fetch would normalise `..` away before sending). */
function get(ui: UiServer, path: string, host?: string): Promise<{ code: number; body: string }> {
  const { port } = new URL(ui.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ui server', () => {
  let ui: UiServer;
  let ids: { a: string; b: string };
  beforeAll(async () => {
    const s = await storeWithJunk();
    ids = s;
    const file = join(tempDir(), 'r.diff.json');
    writeDiffReport(file);
    ui = await startUiServer(new LocalRunStore(s.root), { port: 0, diffs: [loadDiffReport(file)] });
  });
  afterAll(() => ui.close());

  it('listens on loopback and serves the page and uPlot from node_modules', async () => {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await get(ui, '/')).body).toContain('<script src="/vendor/uPlot.iife.min.js">');
    const lib = await get(ui, '/vendor/uPlot.iife.min.js');
    expect(lib.code).toBe(200);
    expect(lib.body).toMatch(/uPlot/);
    expect((await get(ui, '/')).body).toContain('<script type="module" src="/js/main.js">');
    const mod = await get(ui, '/js/panels/rewards.js');
    expect(mod.code).toBe(200);
    expect(mod.body).toContain('export function rewardsPanel');
  });

  it('thins a history to the points asked for, and serves the diff reports', async () => {
    const h = JSON.parse((await get(ui, `/api/runs/${ids.a}/metrics?points=4`)).body);
    expect(h.metrics.loss).toMatchObject({ n: 3, min: 1.5, max: 3 });
    expect((await get(ui, `/api/runs/${ids.a}/metrics?points=2`)).code).toBe(400);
    const d = JSON.parse((await get(ui, '/api/diffs')).body);
    expect(d.reports[0].report.format).toBe('bonsai.diff/1');
    expect(d.reports[0].report.probes[0].name).toBe('halluc');
  });

  it('lists runs and unreadable folders, and serves histories and differing params', async () => {
    const list = JSON.parse((await get(ui, '/api/runs')).body);
    expect(list.runs.map((r: { name: string }) => r.name).sort()).toEqual(['alpha', 'beta']);
    expect(list.unreadable).toContainEqual({ path: 'junk', reason: 'no meta.yaml' });
    expect(list.unreadable).toHaveLength(3);
    const h = JSON.parse((await get(ui, `/api/runs/${ids.a}/metrics`)).body);
    expect(h.metrics.loss).toEqual({ step: [0, 1, 2], time: [1000, 1001, 1002], value: [3, 2, 1.5], n: 3, min: 1.5, max: 3 });
    const p = JSON.parse((await get(ui, `/api/params?runs=${ids.a},${ids.b}`)).body);
    expect(p.differing).toEqual(['lr']);
    expect((await get(ui, `/api/runs/${'0'.repeat(32)}/metrics`)).code).toBe(404);
  });

  it('never serves a file outside the store and its assets, however the path is spelled', async () => {
    for (const path of ['/api/../../etc/passwd', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/api/runs/..%2f..%2fetc%2fpasswd/metrics',
      '/vendor/..%2F..%2Fpackage.json', '/js/../server.ts', '/js/..%2f..%2fserver.ts', '/js/panels/../../../api.ts', '/%2E%2E%5C%2E%2E%5Cetc%5Cpasswd', '/vendor/../../../../etc/passwd', '/api/runs/../../meta.yaml']) {
      const r = await get(ui, path);
      expect([400, 404], path).toContain(r.code);
      expect(r.body, path).not.toMatch(/root:|"name"|artifact_location/);
    }
    for (const path of ['/etc/passwd', '/package.json', '/0/meta.yaml', '/src/ui/server.ts', '/api/runs/abc/metrics']) {
      expect([400, 404], path).toContain((await get(ui, path)).code);
    }
  });

  it('refuses a foreign Host header on loopback (DNS rebinding)', async () => {
    expect((await get(ui, '/api/runs', 'evil.example:80')).code).toBe(403);
    expect((await get(ui, '/api/runs', 'localhost')).code).toBe(200);
  });
});
