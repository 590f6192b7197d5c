import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BonsaiError } from '../errors.ts';
import { threadsProblem } from '../backend/threads.ts';

/** A subcommand: takes its arguments, returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;

/** Formats a help text: usage line, description, aligned rows, footer. */
export function usage(line: string, description: string, rows: Array<[string, string]>, footer = ''): string {
  const width = Math.max(...rows.map(([a]) => a.length), 0) + 2;
  const body = rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join('\n');
  return `usage: ${line}\n\n${description}\n\n${body}\n${footer ? `\n${footer}\n` : ''}`;
}

/** What `parse` returns: parseArgs's own result type, named so declarations can be emitted. */
type Parsed<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T & { help: { type: 'boolean'; short: 'h' } }; allowPositionals: true; strict: true }>
>;

/**
 * node:util parseArgs with errors a user can read: an unknown flag or a missing value is
 * a BonsaiError naming the command, not an ERR_PARSE_ARGS stack.
 */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new BonsaiError(`${command}: ${(e as Error).message.replace(/\. To specify a positional.*$/s, '')}`, {
      hint: `see \`bonsai ${command} --help\``,
    });
  }
}

/** Parses a non-negative integer flag value, naming the flag when it is not one. */
export function intFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new BonsaiError(`${flag} must be a non-negative integer, got "${value}"`);
  return n;
}

/** `--threads N`: the option every command that trains or generates takes (CPU threads for the wasm backend and its BLAS). */
export const threadsOption = { threads: { type: 'string' } } as const;

/** Its help row. */
export const THREADS_HELP: [string, string] = ['--threads N', "CPU threads for the wasm backend and the BLAS its products run on (default: the recipe's backend.threads, else the physical cores)"];

/** Parses `--threads`: a whole number from 1 to this machine's CPUs, or a BonsaiError saying why not. */
export function threadsFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const problem = /^\d+$/.test(value.trim()) ? threadsProblem(n) : `must be a whole number of threads, at least 1 (got "${value}")`;
  if (problem) throw new BonsaiError(`--threads ${value}: ${problem}`);
  return n;
}
