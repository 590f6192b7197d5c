/**
 * The job's entrypoint. Ray runs it through a shell (`Popen(entrypoint, shell=True)`) in
 * the unpacked working directory, so every argument is single-quoted: a `--set` value with
 * spaces, quotes or `$` arrives as the user typed it.
 */

/** POSIX single-quoting: `it's` → `'it'\''s'`; plain words stay bare for readability. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * `npm ci` first when the worker's copy has no node_modules (they are never shipped; an
 * image_uri with them installed skips it), then `npx bonsai train RECIPE [--set …]`. The
 * install keeps the devDependencies: its `prepare` compiles dist/ with TypeScript (dist/ is
 * not shipped either), and without dist/ the bin runs the sources through tsx. npx runs
 * with scripts off: in a bonsai checkout it links the project, which would run `prepare`
 * again (in a partial copy, without the build script).
 */
export function trainEntrypoint(recipePath: string, sets: readonly string[] = []): string {
  const install = '{ test -d node_modules || npm ci --no-audit --no-fund; }';
  const train = ['npx', 'bonsai', 'train', recipePath, ...sets.flatMap((s) => ['--set', s])].map(shellQuote).join(' ');
  return `${install} && npm_config_ignore_scripts=true ${train}`;
}
