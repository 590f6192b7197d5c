/**
 * Ground-truth tasks, measured over seeds (mean ± std), printed as Markdown tables for the
 * README and docs/results/. Each cell also shows the worst seed: a mean can hide one bad seed.
 * `node bin/run-ts.js bench/tasks.ts [spurious] [side] [forgetting] [--seeds 0,1,2,3,4]` (default: seeds 0–4)
 *   [--arms a,b] (forgetting: only these arms)  [--set PATH=VALUE]... (forgetting: overrides for the attribution and random arms)
 */
import { runForgetting } from './tasks/forgetting.ts';
import { runSide } from './tasks/side.ts';
import { runSpurious } from './tasks/spurious.ts';

const args = process.argv.slice(2);
const valued = ['--seeds', '--arms', '--set'];
const values = (flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
const seeds = values('--seeds')[0]?.split(',').map(Number) ?? [0, 1, 2, 3, 4];
const options = { arms: values('--arms')[0]?.split(','), sets: values('--set') };
const which = args.filter((a, i) => !a.startsWith('--') && !valued.includes(args[i - 1]!));
const all = { spurious: runSpurious, side: runSide, forgetting: runForgetting } as const;
for (const name of which.length ? which : Object.keys(all)) {
  const run = all[name as keyof typeof all];
  if (!run) throw new Error(`unknown task ${name}; tasks: ${Object.keys(all).join(', ')}`);
  const started = performance.now();
  const lines = await run(seeds, options);
  console.log(`${lines.join('\n')}\n(${((performance.now() - started) / 1000).toFixed(0)} s, seeds ${seeds.join(', ')})\n`);
}
