import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { bonsai, hasStackTrace } from '../helpers/cli.ts';
import { tempDir, writeTinyRecipe } from '../helpers/recipes.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bonsai.js');

describe('bonsai train', () => {
  it('trains, logs plain lines when not a terminal, checkpoints, and generates from the checkpoint', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 6, extra: 'sample: { prompt: "the ", max_new_tokens: 8 }' });
    const r = bonsai(['train', recipe]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/backend cpu/);
    expect(r.stdout).toMatch(/^step 6\/6 .*loss \d/m);
    expect(r.stdout).not.toMatch(/\r|\x1b\[/); // no terminal control characters in a log
    expect(r.stdout).toMatch(/finished at step 6/);
    expect(r.stdout).toMatch(/unigram entropy/);
    expect(r.stdout).toMatch(/sample:\nthe /);
    const ckpt = join(dir, 'out', 'step-00000006');
    expect(existsSync(join(ckpt, 'model.safetensors'))).toBe(true);

    const g = bonsai(['generate', '--checkpoint', join(dir, 'out'), '--prompt', 'the cat', '--max-new-tokens', '5', '--temperature', '0', '--backend', 'cpu']);
    expect(g.code).toBe(0);
    expect(g.stdout.startsWith('the cat')).toBe(true);
  });

  it('--threads sets the wasm backend\'s threads (and its BLAS\'s); a count this machine cannot run is refused up front', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 2 });
    const r = bonsai(['train', recipe, '--set', 'backend=wasm', '--threads', '1', '--set', 'tracking.uri=none']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend wasm \(1 thread; (products on \S|.*products run on XNNPACK)/m);
    for (const [bad, why] of [['0', /must be a whole number of threads, at least 1/], ['9999', /this machine has \d+ CPUs?/], ['two', /must be a whole number/]] as const) {
      const refused = bonsai(['train', recipe, '--threads', bad]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(new RegExp(`--threads ${bad}: `));
      expect(refused.stderr).toMatch(why);
      expect(hasStackTrace(refused.stderr)).toBe(false);
    }
  });

  it('with tracking none, prints no tracking or compare line', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 2 });
    const r = bonsai(['train', recipe, '--set', 'tracking.uri=none']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/finished at step 2/);
    expect(r.stdout).not.toMatch(/^tracking: run|^compare:/m);
    const tracked = bonsai(['train', writeTinyRecipe(tempDir(), { steps: 2 })]);
    expect(tracked.stdout).toMatch(/^tracking: run [0-9a-f]{32} in /m);
  });

  it('a recipe with a sweep: section trains the base recipe once and says how to run the sweep', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 2, extra: 'sweep: { grid: { trainer.optimizer.lr: [1.0e-3, 3.0e-3] } }' });
    const r = bonsai(['train', recipe]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`note: ${recipe} has a sweep: section; this trains the base recipe once (\`bonsai sweep ${recipe}\` trains every point)`);
    expect(r.stdout).toMatch(/finished at step 2/);
  });

  it('SIGINT saves a checkpoint, ends the run KILLED, and --resume finishes it', async () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 100000 });
    const child = spawn(process.execPath, [BIN, 'train', recipe], { cwd: join(import.meta.dirname, '..', '..') });
    // Never leave a 100000-step run behind, even when the test fails or times out.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let out = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!interrupted && /^step \d+\/100000/m.test(out)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const code = await exited;
    expect(code).toBe(130);
    expect(out).toMatch(/stopped at step (\d+)/);
    const ckpts = readdirSync(join(dir, 'out')).filter((d) => d.startsWith('step-'));
    expect(ckpts).toHaveLength(1);
    const mlruns = join(dir, 'mlruns');
    const exp = readdirSync(mlruns).find((d) => d !== '0' && /^\d+$/.test(d))!;
    const run = readdirSync(join(mlruns, exp)).find((d) => /^[0-9a-f]{32}$/.test(d))!;
    expect(readFileSync(join(mlruns, exp, run, 'meta.yaml'), 'utf8')).toMatch(/status: 5/); // KILLED

    const step = Number(/stopped at step (\d+)/.exec(out)![1]);
    const r = bonsai(['train', recipe, '--resume', '--set', `trainer.steps=${step + 2}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`resumed from .* at step ${step}`));
    expect(r.stdout).toMatch(new RegExp(`finished at step ${step + 2}`));
  });
});

describe('bad input: one clear message, non-zero exit, nothing damaged', () => {
  it('a corrupt checkpoint is named on --resume and left as it was', () => {
    const dir = tempDir();
    const recipe = writeTinyRecipe(dir, { steps: 2 });
    expect(bonsai(['train', recipe]).code).toBe(0);
    const weights = join(dir, 'out', 'step-00000002', 'model.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(weights, bytes);
    const r = bonsai(['train', recipe, '--resume', '--set', 'trainer.steps=4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checkpoint .*step-00000002 is corrupt or truncated: model\.safetensors/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(readFileSync(weights).equals(bytes)).toBe(true);
  });

  it('a truncated checkpoint is named by generate', () => {
    const dir = tempDir();
    expect(bonsai(['train', writeTinyRecipe(dir, { steps: 1 })]).code).toBe(0);
    const weights = join(dir, 'out', 'step-00000001', 'model.safetensors');
    truncateSync(weights, statSync(weights).size - 100);
    const r = bonsai(['generate', '--checkpoint', join(dir, 'out', 'step-00000001'), '--prompt', 'x', '--backend', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/model\.safetensors/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('a JSONL line that is not JSON is named by file:line', () => {
    const dir = tempDir();
    const data = join(dir, 'bad.jsonl');
    writeFileSync(data, '{"prompt": "a", "completion": "b"}\n{"prompt": "a", "completion": \n');
    const r = bonsai(['train', writeTinyRecipe(dir, { train: `{ format: jsonl, path: ${data} }` })]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.jsonl:2/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
