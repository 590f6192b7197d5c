/**
 * What the page must show for the design run and its control (test/ui/design-runs.ts),
 * whichever store it reads: every design panel drawn, with the content each must hold.
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { BLUE } from './design-runs.ts';
import { panelContent } from './page.ts';

/** Every design panel drew: at least one chart, each line with points, run colours on the canvas. */
async function expectPanelsDrawn(page: Page): Promise<Record<string, Awaited<ReturnType<typeof panelContent>>>> {
  const out: Record<string, Awaited<ReturnType<typeof panelContent>>> = {};
  for (const panel of ['rewards', 'probes', 'gradients', 'freezing', 'interventions', 'system']) {
    const charts = await panelContent(page, panel);
    expect(charts.length, panel).toBeGreaterThan(0);
    for (const c of charts) {
      expect(c.lines.length, c.id).toBeGreaterThan(0);
      for (const l of c.lines) expect(l.points, `${c.id}: ${l.label}`).toBeGreaterThan(0);
      // Some run's colour is on the canvas (equal lines, e.g. two runs never clipping, hide each other).
      expect(Math.max(...c.pixels), `${c.id} drawn`).toBeGreaterThan(5);
    }
    out[panel] = charts;
  }
  return out;
}

/** The panels' content for the picked design run and control (ids as the store knows them). */
export async function expectDesignPanels(page: Page, runs: { design: string; control: string }): Promise<void> {
  const drawn = await expectPanelsDrawn(page);
  const byId = (panel: string, id: string) => drawn[panel]!.find((c) => c.id === id)!;
  // Both runs, each with a ±std band, on the total reward; the probe reward only in the design run.
  expect(byId('rewards', 'rewards:total').lines.map((l) => l.label)).toEqual([`${BLUE} ${runs.design.slice(0, 8)}`, `control ${runs.control.slice(0, 8)}`]);
  expect(byId('rewards', 'rewards:total').series).toBe(6);
  expect(byId('rewards', 'rewards:total').lines.map((l) => l.points)).toEqual([6, 6]);
  expect(Math.min(...byId('rewards', 'rewards:reward:printable').pixels)).toBeGreaterThan(5); // both runs' curves are on the canvas
  expect(byId('rewards', 'rewards:reward:probe').lines).toHaveLength(1);
  expect(drawn.rewards!.map((c) => c.id)).toEqual(expect.arrayContaining(['rewards:train/kl', 'rewards:train/entropy', 'rewards:train/clip_frac', 'rewards:train/response_length']));
  // The probe on the frozen copy and on the policy, and their gap.
  expect(byId('probes', 'probes:score:p').lines.map((l) => l.label)).toEqual([`${BLUE} ${runs.design.slice(0, 8)} · frozen`, `${BLUE} ${runs.design.slice(0, 8)} · policy`]);
  expect(byId('probes', 'probes:drift:p').lines[0]!.points).toBe(6);
  expect(drawn.gradients!.map((c) => c.id)).toEqual(['gradients:gradients/clip/norm', 'gradients:gradients/clip/clipped']);
  expect(byId('system', 'system:system/cpu_utilization_percentage').lines).toHaveLength(2);
  expect(byId('system', 'system:train/tokens_per_sec').lines).toHaveLength(2);
  // System samples have no training step: their charts run on seconds since the start.
  expect(await page.evaluate(() => (globalThis as unknown as { bonsaiUi: { charts: Map<string, { axes: Array<{ label?: string }> }> } }).bonsaiUi.charts.get('system:system/cpu_utilization_percentage')!.axes[0]!.label)).toBe('seconds since start');
  // Freezing: the 8 attention tensors, the total and the end-of-run check; the control says it freezes nothing.
  const freeze = await page.locator('#panel-freezing').innerText();
  expect(freeze).toMatch(/blocks\.0\.attn\.W_Q\s+256/);
  expect(await page.locator('#panel-freezing tr[data-tensor]').count()).toBe(8);
  expect(freeze).toMatch(/entries frozen\s+1088/);
  expect(freeze).toContain('✓ bit-identical');
  expect(freeze).toContain(`control ${runs.control.slice(0, 8)}: freezes nothing`);
  expect(await page.locator('#panel-probes').innerText()).toContain(`control ${runs.control.slice(0, 8)}: no probe reward`);
  expect(await page.locator('#panel-interventions').innerText()).toContain('insert “!” when probe “p” fires');
}
