import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalMlflowTracker } from '../../src/tracking/index.ts';
import { train } from '../../src/trainer/run.ts';
import { tempDir, tinyRecipe } from '../helpers/recipes.ts';

const CHROMIUM = '/usr/bin/chromium';
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bonsai.js');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Starts the real `bonsai ui` and resolves with its URL once it prints it. */
function startUi(store: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'ui', '--store', store, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) resolve({ child, url: m[0] });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`bonsai ui exited ${code}: ${out}`)));
  });
}

describe('bonsai ui in headless Chromium', () => {
  let browser: Browser | undefined;
  let ui: ChildProcess | undefined;
  afterAll(async () => {
    await browser?.close();
    ui?.kill('SIGTERM');
  });

  it('picks two real runs, overlays two curves, shows differing params, and follows a live run', async () => {
    // Fail, never skip: CI installs chromium (.ci/run), so its absence is a broken setup.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`);
    const dir = tempDir();
    const store = join(dir, 'mlruns');
    const a = await train(tinyRecipe(dir, { steps: 6, overrides: ['run.name=run-a'] }));
    const b = await train(tinyRecipe(dir, { steps: 6, overrides: ['run.name=run-b', `run.out_dir=${join(dir, 'out-b')}`, 'trainer.optimizer.lr=0.003'] }));
    mkdirSync(join(store, 'junk')); // a foreign folder: listed as unreadable, never a crash
    const live = new LocalMlflowTracker(store, { flushEveryMs: 60_000 });
    const { runId: liveId } = await live.startRun({ experiment: 'test', runName: 'live' });
    live.logMetrics(1, { 'train/loss': 4 });
    await live.flush();

    const started = await startUi(store);
    ui = started.child;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 20_000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(started.url);
    await page.locator(`input[data-run="${a.runId}"]`).check();
    await page.locator(`input[data-run="${b.runId}"]`).check();
    await page.locator('[data-metric="train/loss"][data-series="2"]').waitFor({ timeout: 10_000 });

    // The chart library's own state: two series (after x), each with a point per step.
    const chart = await page.evaluate(() => {
      const c = (globalThis as unknown as { bonsaiUi: { charts: Map<string, { series: Array<{ label?: string }>; data: Array<Array<number | null>> }> } }).bonsaiUi.charts.get('train/loss')!;
      return { labels: c.series.slice(1).map((s) => s.label), points: c.data.slice(1).map((ys) => ys.filter((y) => typeof y === "number").length), xs: c.data[0] };
    });
    expect(chart.labels).toEqual([`run-a ${a.runId.slice(0, 8)}`, `run-b ${b.runId.slice(0, 8)}`]);
    expect(chart.points).toEqual([6, 6]);
    expect(chart.xs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await page.locator('#params-table').innerText()).toMatch(/trainer\.optimizer\.lr\s+0\.01\s+0\.003/);
    expect(await page.locator('#unreadable').innerText()).toContain('junk: no meta.yaml');
    expect(await page.locator('canvas').count()).toBeGreaterThan(0);
    const shot = join(process.env.BONSAI_UI_SCREENSHOT_DIR ?? dir, 'bonsai-ui.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);

    // Smoothing and the x axis redraw the same runs: smoothed values differ from the raw ones
    // (the first point stays: the average is debiased), and time since start replaces steps.
    const trainLoss = () => page.evaluate(() => (globalThis as unknown as { bonsaiUi: { charts: Map<string, { data: number[][] }> } }).bonsaiUi.charts.get('train/loss')!.data);
    const raw = await trainLoss();
    await page.locator('#smoothing').evaluate((e: { value: string; dispatchEvent(ev: unknown): boolean }) => {
      e.value = '0.9';
      e.dispatchEvent(new (globalThis as unknown as { Event: new (t: string) => unknown }).Event('input'));
    });
    const smoothed = await trainLoss();
    expect(smoothed[1]![0]).toBeCloseTo(raw[1]![0]!, 6);
    expect(smoothed[1]![5]).not.toBeCloseTo(raw[1]![5]!, 3);
    await page.locator('#xaxis').selectOption('relative');
    const xs = (await trainLoss())[0]!;
    expect(xs[0]).toBeGreaterThanOrEqual(0);
    expect(xs[0]).toBeLessThan(60); // seconds since the run started, not step 1
    expect(xs).not.toEqual([1, 2, 3, 4, 5, 6]);
    await page.locator('#xaxis').selectOption('wall');
    expect((await trainLoss())[0]![0]).toBeGreaterThan(1.6e9); // epoch seconds on uPlot's time axis
    await page.locator('#xaxis').selectOption('step');

    // A run still training: its curve grows as the page polls, with no reload.
    await page.locator(`input[data-run="${liveId}"]`).check();
    await page.locator('[data-metric="train/loss"][data-series="3"]').waitFor({ timeout: 10_000 });
    live.logMetrics(2, { 'train/loss': 3 });
    live.logMetrics(3, { 'train/loss': 2 });
    await live.flush();
    await page.waitForFunction(() => {
      const c = (globalThis as unknown as { bonsaiUi: { charts: Map<string, { data: Array<Array<number | null>> }> } }).bonsaiUi.charts.get('train/loss');
      return c !== undefined && c.data[3]!.filter((y) => typeof y === "number").length === 3;
    }, undefined, { timeout: 10_000 });
    await live.endRun('FINISHED');
    expect(errors).toEqual([]);
  }, 60_000);
});
