import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { CliResult } from '../helpers/cli.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bonsai.js');

/**
 * The real `bonsai` CLI in a subprocess, like test/helpers/cli.ts's `bonsai`, but without
 * blocking this process: the fake dashboard it talks to answers from here.
 */
export function bonsaiAsync(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}
