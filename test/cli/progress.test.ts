import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration, formatNumber, formatRate } from '../../src/cli/progress.ts';

function fakeStream(isTTY: boolean, columns?: number) {
  const chunks: string[] = [];
  return { chunks, text: () => chunks.join(''), stream: { isTTY, columns, write: (s: string) => chunks.push(s) } };
}

/** A clock the test moves by hand. */
function clock() {
  let t = 0;
  return { now: () => t, tick: (ms: number) => (t += ms) };
}

describe('progress on a TTY', () => {
  it('redraws one line with bar, fields and ETA from the step-time average', () => {
    const f = fakeStream(true);
    const c = clock();
    const p = createProgress({ total: 300, stream: f.stream, now: c.now });
    for (let s = 1; s <= 120; s++) {
      c.tick(600); // 0.6 s per step → 180 steps left ≈ 1m48s
      p.update(s, { loss: 2.31412, tokensPerSec: 12_345 });
    }
    const last = f.chunks.at(-1)!;
    expect(last).toBe('\r\x1b[2Kstep 120/300 [########------------] loss 2.314 · 12.3k tok/s · ETA 1m48s');
    expect(f.text()).not.toContain('\n');
  });

  it('throttles redraws to about 10 per second but always draws the last step', () => {
    const f = fakeStream(true);
    const c = clock();
    const p = createProgress({ total: 1000, stream: f.stream, now: c.now });
    for (let s = 1; s <= 1000; s++) {
      c.tick(1); // 1000 steps in one second
      p.update(s, { loss: 1 });
    }
    expect(f.chunks.length).toBeLessThanOrEqual(12);
    expect(f.chunks.at(-1)).toContain('step 1000/1000 [####################]');
    p.done();
    expect(f.chunks.at(-1)).toBe('\n');
  });

  it('log() prints above the bar and draws the bar again', () => {
    const f = fakeStream(true);
    const c = clock();
    const p = createProgress({ total: 10, stream: f.stream, now: c.now });
    p.update(3, { loss: 0.5, lr: 3e-4, 'rewards/probe': 0.25 });
    p.log('checkpoint saved');
    expect(f.chunks.slice(-2)).toEqual([
      '\r\x1b[2Kcheckpoint saved\n',
      '\r\x1b[2Kstep 3/10 [######--------------] loss 0.5 · lr 3.0e-4 · rewards/probe 0.25',
    ]);
  });

  it('fits the line to the terminal width', () => {
    const f = fakeStream(true, 30);
    createProgress({ total: 10, stream: f.stream }).update(1, { loss: 1, tokensPerSec: 5 });
    expect(f.chunks[0]!.replace('\r\x1b[2K', '').length).toBe(29);
  });
});

describe('progress without a TTY', () => {
  it('prints plain lines every logEvery steps plus the last, with no control characters', () => {
    const f = fakeStream(false);
    const c = clock();
    const p = createProgress({ total: 25, stream: f.stream, logEvery: 10, now: c.now });
    for (let s = 1; s <= 25; s++) {
      c.tick(1000);
      p.update(s, { loss: 3 - s / 10 });
    }
    p.done();
    const lines = f.text().split('\n');
    expect(lines).toEqual(['step 10/25 loss 2 · ETA 15s', 'step 20/25 loss 1 · ETA 5s', 'step 25/25 loss 0.5', '']);
    expect(f.text()).not.toMatch(/[\r\x1b]/);
  });

  it('done() prints the last step of a run that stopped early; log() is a plain line', () => {
    const f = fakeStream(false);
    const p = createProgress({ total: 100, stream: f.stream });
    p.update(7, {});
    p.log('stopping: loss is NaN');
    p.done();
    p.done();
    expect(f.text()).toBe('stopping: loss is NaN\nstep 7/100\n');
  });

  it('defaults to the stream\'s own isTTY', () => {
    const f = fakeStream(false);
    createProgress({ total: 1, stream: f.stream }).update(1, { loss: 1 });
    expect(f.text()).toBe('step 1/1 loss 1\n');
  });
});

describe('formatting', () => {
  it('numbers, rates and durations', () => {
    expect([formatNumber(2.31412), formatNumber(0.5), formatNumber(1234.5), formatNumber(1.234e-5), formatNumber(0), formatNumber(NaN)]).toEqual([
      '2.314', '0.5', '1235', '1.23e-5', '0', 'NaN',
    ]);
    expect([formatRate(980.4), formatRate(12_345), formatRate(4_500_000)]).toEqual(['980', '12.3k', '4.5M']);
    expect([formatDuration(45_000), formatDuration(72_000), formatDuration(7_500_000)]).toEqual(['45s', '1m12s', '2h05m']);
  });
});
