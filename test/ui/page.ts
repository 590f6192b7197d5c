/**
 * Driving the ui page in Debian's Chromium for the tests: start `bonsai ui` for real, open
 * a page that records errors, and read back what each chart drew (uPlot's own data, and
 * the pixels of each run's colour on its canvas), so a test checks content, not page load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bonsai.js');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Fail, never skip: CI installs chromium (.ci/run), so its absence is a broken setup. */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 20_000 });
}

/** Starts the real `bonsai ui` (port 0) and resolves with the page URL it prints. */
export function startUi(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'ui', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\S*) \(Ctrl-C/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`bonsai ui exited ${code}: ${out}`)));
  });
}

/** A page that collects uncaught errors and refuses any request that leaves the ui server. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[]; offsite: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  const offsite: string[] = [];
  const origin = new URL(url).origin;
  page.on('pageerror', (e) => errors.push(e.message));
  await page.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : (offsite.push(route.request().url()), route.abort())));
  await page.goto(url);
  return { page, errors, offsite };
}

export interface ChartContent {
  id: string;
  /** Line labels (bands left out) and finite points per line. */
  lines: Array<{ label: string; points: number }>;
  /** Series (x excluded) in the chart, bands included. */
  series: number;
  /** Per line colour: canvas pixels within a small distance of it. */
  pixels: number[];
}

/** What every chart of `panel` holds and drew. */
export function panelContent(page: Page, panel: string): Promise<ChartContent[]> {
  return page.evaluate((name) => {
    // Just the DOM and uPlot members read here (the tests compile without the DOM library).
    type El = { dataset: Record<string, string | undefined>; textContent: string | null };
    type Ctx = { canvas: { width: number; height: number }; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
    type U = { series: unknown[]; data: Array<Array<number | null>>; ctx: Ctx; root: { querySelectorAll(s: string): Iterable<El> } };
    const ui = (globalThis as unknown as { bonsaiUi: { charts: Map<string, U>; panels: Record<string, string[]> } }).bonsaiUi;
    return (ui.panels[name] ?? []).map((id) => {
      const u = ui.charts.get(id)!;
      const { width, height } = u.ctx.canvas;
      const px = u.ctx.getImageData(0, 0, width, height).data;
      const entries = [...u.root.querySelectorAll('.legend .entry')];
      const lines = entries.map((e) => {
        const i = Number(e.dataset.series);
        return { i, label: e.textContent!.trim(), stroke: e.dataset.color! };
      });
      const near = (hex: string) => {
        const n = parseInt(hex.slice(1), 16);
        const [r, g, b] = [n >> 16, (n >> 8) & 255, n & 255];
        let count = 0;
        for (let p = 0; p < px.length; p += 4) if (Math.abs(px[p]! - r) + Math.abs(px[p + 1]! - g) + Math.abs(px[p + 2]! - b) < 100 && px[p + 3]! > 200) count++;
        return count;
      };
      return {
        id,
        series: u.series.length - 1,
        lines: lines.map((l) => ({ label: l.label, points: u.data[l.i]!.filter((y) => typeof y === 'number' && Number.isFinite(y)).length })),
        pixels: lines.map((l) => near(l.stroke)),
      };
    });
  }, panel);
}

export type Dom = { document: { querySelector(s: string): { textContent: string | null } | null } };
export type Ui = { charts: Map<string, { scales: { x: { min: number; max: number } }; data: Array<Array<number | null>> }> };
/** The x range chart `id` shows now. */
export const chartX = (page: Page, id: string) => page.evaluate((i) => { const u = (globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get(i)!; return [u.scales.x.min, u.scales.x.max]; }, id);
/** Numeric points of series `s` in chart `id`. */
export const chartPoints = (page: Page, id: string, s = 1) => page.evaluate(([i, k]) => (globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get(i as string)!.data[k as number]!.filter((y) => typeof y === 'number').length, [id, s] as const);
