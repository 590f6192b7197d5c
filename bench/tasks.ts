/**
 * Ground-truth tasks, measured over seeds (mean ± std), printed as Markdown tables for the
 * README and docs/results/. Each cell also shows the worst seed: a mean can hide one bad seed.
 * `node bin/run-ts.js bench/tasks.ts [spurious] [side] [forgetting] [--seeds 0,1,2,3,4]` (default: seeds 0–4)
 */
import { runForgetting } from './tasks/forgetting.ts';
import { runSide } from './tasks/side.ts';
import { runSpurious } from './tasks/spurious.ts';

const args = process.argv.slice(2);
const seedsAt = args.indexOf('--seeds');
const seeds = seedsAt >= 0 ? args[seedsAt + 1]!.split(',').map(Number) : [0, 1, 2, 3, 4];
const which = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--seeds');
const all = { spurious: runSpurious, side: runSide, forgetting: runForgetting } as const;
for (const name of which.length ? which : Object.keys(all)) {
  const run = all[name as keyof typeof all];
  if (!run) throw new Error(`unknown task ${name}; tasks: ${Object.keys(all).join(', ')}`);
  const started = performance.now();
  const lines = await run(seeds);
  console.log(`${lines.join('\n')}\n(${((performance.now() - started) / 1000).toFixed(0)} s, seeds ${seeds.join(', ')})\n`);
}
