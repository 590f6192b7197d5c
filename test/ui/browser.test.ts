import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalMlflowTracker } from '../../src/tracking/index.ts';
import { pushRun } from '../../src/tracking/push.ts';
import { FakeMlflow } from '../fakes/mlflow-server.ts';
import { tempDir } from '../helpers/recipes.ts';
import { useCpu } from '../helpers/tiny.ts';
import { BLUE, trainDesignRuns, type DesignRuns } from './design-runs.ts';
import { HOSTILE_NAME, HOSTILE_PARAM, writeBadInputRuns, writeDiffReport } from './fixtures.ts';
import { expectDesignPanels } from './design-checks.ts';
import { chartPoints, chartX, launch, openPage, startUi, type Dom, type Ui } from './page.ts';

const SHOTS = process.env.BONSAI_UI_SCREENSHOT_DIR ?? join(import.meta.dirname, '.screenshots');
describe('bonsai ui in headless Chromium, on two real runs of a design recipe and its control', () => {
  let browser: Browser;
  let runs: DesignRuns;
  let bad: { hostile: string; big: string };
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    await useCpu();
    dir = tempDir();
    runs = await trainDesignRuns(dir);
    bad = await writeBadInputRuns(runs.store);
    writeDiffReport(join(dir, 'a-vs-b.diff.json'));
    mkdirSync(SHOTS, { recursive: true });
    browser = await launch();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const c of children) c.kill('SIGTERM');
  });

  it('local store: the table, every design panel, the grid with synced zoom, the diff view and bad input', async () => {
    const ui = await startUi(['--store', runs.store, '--run', runs.design, '--run', runs.control, '--diff', join(dir, 'a-vs-b.diff.json')]);
    children.push(ui.child);
    expect(ui.url).toMatch(new RegExp(`\\?runs=${runs.design},${runs.control}$`));
    const { page, errors, offsite } = await openPage(browser, ui.url);
    await page.locator('[data-chart="rewards:total"]').waitFor({ timeout: 15_000 });

    await expectDesignPanels(page, runs);

    // The table, filtered to the two trained runs (backend cpu): status, backend, a differing
    // param, final · best of train/loss; unreadable folders with the reason.
    await page.locator('#filter').fill('cpu');
    expect(await page.locator('#runs tbody tr').count()).toBe(2);
    const row = await page.locator(`tr[data-row="${runs.design}"]`).innerText();
    expect(row).toMatch(/FINISHED/);
    expect(row).toMatch(/\bcpu\b/);
    expect(row).toContain('blocks.0.attn.*');
    expect(row).toMatch(/-?\d[\d.e-]* · -?\d[\d.e-]*/);
    expect(await page.locator('#unreadable').innerText()).toContain('junk: no meta.yaml');
    // Sorting by keyboard: Enter on a header sorts, again reverses; focus stays on the header.
    await page.locator('button[data-focus="sort:name"]').focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('#runs tbody tr td.name').allInnerTexts()).toEqual(['control', BLUE]);
    await page.keyboard.press('Enter');
    expect(await page.locator('#runs tbody tr td.name').allInnerTexts()).toEqual([BLUE, 'control']);
    expect(page.url()).toContain('sort=name:desc');
    await page.locator('#filter').blur();
    await page.setViewportSize({ width: 1400, height: 1250 });
    await page.screenshot({ path: join(SHOTS, 'ui.png') });
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.screenshot({ path: join(SHOTS, 'ui-full.png'), fullPage: true });
    await page.locator('#filter').fill('');

    // Keyboard: tick a grid metric with Space; it is drawn, and the URL carries it.
    await page.locator('input[data-metric="gradients/clip/norm"]').focus();
    await page.keyboard.press('Space');
    await page.locator('[data-chart="grid:gradients/clip/norm"]').waitFor();
    expect(page.url()).toContain('gradients/clip/norm');

    // Zoom one chart by dragging: every step chart follows, and the URL keeps it.
    const over = (await page.locator('[data-chart="grid:train/loss"] .u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.3, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.75, over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    const zoomed = await chartX(page, 'grid:train/loss');
    expect(zoomed[0]).toBeGreaterThan(1);
    expect(zoomed[1]).toBeLessThan(6);
    expect(await chartX(page, 'rewards:total')).toEqual(zoomed);
    expect(page.url()).toMatch(/zoom_step=/);

    // A running run: picked by keyboard, its curve and its table row grow as the page polls; the zoom stays.
    const live = new LocalMlflowTracker(runs.store, { flushEveryMs: 60_000, systemMetricsMs: 0 });
    const { runId: liveId } = await live.startRun({ experiment: 'design', runName: 'live' });
    live.logMetrics(1, { 'train/loss': 4 });
    await live.flush();
    await page.locator(`input[data-run="${liveId}"]`).waitFor({ timeout: 10_000 });
    await page.locator(`input[data-run="${liveId}"]`).focus();
    await page.keyboard.press('Space');
    await page.waitForFunction(() => (globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get('grid:train/loss')!.data.length === 4, undefined, { timeout: 10_000 });
    live.logMetrics(2, { 'train/loss': 3 });
    live.logMetrics(3, { 'train/loss': 2.5 });
    await live.flush();
    await page.waitForFunction(() => (globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get('grid:train/loss')!.data[3]!.filter((y) => typeof y === 'number').length === 3, undefined, { timeout: 10_000 });
    await page.waitForFunction((id) => (globalThis as unknown as Dom).document.querySelector(`tr[data-row="${id}"]`)?.textContent?.includes('2.5'), liveId, { timeout: 10_000 });
    expect(await page.locator(`tr[data-row="${liveId}"]`).innerText()).toContain('RUNNING');
    expect(await chartX(page, 'rewards:total')).toEqual(zoomed);
    await live.endRun('FINISHED');

    // Smoothing changes the drawn values and goes in the URL; a reload of that URL restores the view.
    const rawTotal = await page.evaluate(() => (globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get('rewards:total')!.data[1]!.slice());
    await page.locator('#smoothing').fill('0.8');
    const smoothed = await page.evaluate(() => (globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get('rewards:total')!.data[1]!.slice());
    expect(smoothed[0]).toBeCloseTo(rawTotal[0]!, 6);
    expect(smoothed.slice(2)).not.toEqual(rawTotal.slice(2));
    expect(page.url()).toContain('smooth=0.8');
    await page.reload();
    await page.locator('[data-chart="grid:gradients/clip/norm"]').waitFor({ timeout: 15_000 });
    expect(await page.locator(`input[data-run="${liveId}"]`).isChecked()).toBe(true);
    expect(await page.locator('#smoothing').inputValue()).toBe('0.8');
    expect(await chartX(page, 'rewards:total')).toEqual(zoomed);

    // Bad input: HTML in a run name and a param is text; 20 000 points are thinned for drawing (unsmoothed, the spike stays).
    await page.locator('#smoothing').fill('0');
    await page.locator(`input[data-run="${bad.hostile}"]`).check();
    await page.locator(`input[data-run="${bad.big}"]`).check();
    const t0 = Date.now();
    await page.waitForFunction(() => (globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get('grid:train/loss')!.data.length === 6, undefined, { timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(await chartPoints(page, 'grid:train/loss', 5)).toBeLessThanOrEqual(2000);
    expect(await chartPoints(page, 'grid:train/loss', 5)).toBeGreaterThan(1000);
    expect(await page.evaluate(() => Math.max(...((globalThis as unknown as { bonsaiUi: Ui }).bonsaiUi.charts.get('grid:train/loss')!.data[5] as number[]).filter(Number.isFinite)))).toBeGreaterThan(5); // the spike survives
    expect(await page.locator(`tr[data-row="${bad.hostile}"] td.name`).innerText()).toBe(HOSTILE_NAME);
    expect(await page.locator('#runs').innerText()).toContain(HOSTILE_PARAM);
    expect(await page.locator('#runs img, #runs script, #diff b').count()).toBe(0);

    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // The diff view: top-moved weights, lens tokens (HTML as text, spaces shown) and probe drift.
    const diff = await page.locator('#diff').innerText();
    expect(diff).toMatch(/blocks\.1\.mlp\.W_out\s+0\.12/);
    expect(diff).toContain('L1 H0');
    expect(diff).toContain('L1 N17');
    expect(diff).toContain('␣unknown');
    expect(diff).toContain('<b>bold</b>');
    expect(diff).toMatch(/halluc\s+0\.91\s+0\.62\s+0\.7\s+0\.2\s+-0\.5/);
    await page.locator('#diff-section').screenshot({ path: join(SHOTS, 'ui-diff.png') });
    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
  }, 120_000);

  it('server store: the same runs pushed to the spec-enforcing fake MLflow, the same panels drawn', async () => {
    const server = await FakeMlflow.start();
    try {
      for (const id of [runs.design, runs.control]) await pushRun(runDir(runs.store, id), server.url);
      const ui = await startUi(['--store', server.url, '--run', BLUE, '--run', 'control']);
      children.push(ui.child);
      const { page, errors, offsite } = await openPage(browser, ui.url);
      await page.locator('[data-chart="rewards:total"]').waitFor({ timeout: 15_000 });
      expect(await page.locator('#location').innerText()).toBe(server.url);
      // The server gave the runs its own ids: the page picked them by name (--run).
      const [design, control] = await page.evaluate(() => (globalThis as unknown as { bonsaiUi: { state: { selected: string[] } } }).bonsaiUi.state.selected);
      await expectDesignPanels(page, { design: design!, control: control! });
      expect(await page.locator('#runs tbody tr').count()).toBe(2);
      await page.screenshot({ path: join(SHOTS, 'ui-server.png') });
      expect(errors).toEqual([]);
      expect(offsite).toEqual([]);
    } finally {
      await server.close();
    }
  }, 60_000);
});

/** A run's folder in a local store (the experiment folder is whichever holds it). */
function runDir(store: string, id: string): string {
  const exp = readdirSync(store).find((e) => existsSync(join(store, e, id, 'meta.yaml')));
  if (!exp) throw new Error(`run ${id} not in ${store}`);
  return join(store, exp, id);
}
