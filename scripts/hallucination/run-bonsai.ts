// One bonsai command in a child process, for the measurement scripts: one training process at a
// time (the caller awaits it), tracking off, stdout dropped; rejects with the command and its stderr.
import { spawn } from 'node:child_process';

export const runBonsai = (args: string[]) =>
  new Promise<void>((ok, fail) => {
    const p = spawn(process.execPath, ['bin/bonsai.js', ...args, '--set', 'tracking.uri=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`bonsai ${args.join(' ')} failed:\n${err}`))));
  });
