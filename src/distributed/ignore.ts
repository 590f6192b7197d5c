/**
 * A small .gitignore matcher for folders that are not git work trees (inside one, git
 * itself decides: `git ls-files --others --exclude-standard`). It covers what projects
 * write: comments, `!` negation, a trailing `/` for folders, a leading or inner `/` to
 * anchor at the root, `*`, `?`, `**`. A file inside an ignored folder is ignored, as in git.
 */

interface Rule {
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < glob.length) out += `\\${glob[++i]}`;
    else out += /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
  }
  return out;
}

/** Parses .gitignore-style lines into rules. */
function parseIgnore(lines: readonly string[]): Rule[] {
  const rules: Rule[] = [];
  for (const raw of lines) {
    let line = raw.replace(/(?<!\\)\s+$/, '');
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.replace(/\/+$/, '');
    // A slash at the start or middle anchors the pattern at the root; otherwise it matches at any depth.
    const anchored = line.includes('/');
    line = line.replace(/^\//, '');
    if (!line) continue;
    const body = globToRegExp(line);
    rules.push({ re: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${body}$`), negate, dirOnly });
  }
  return rules;
}

/** Whether `path` (relative, forward slashes; a folder when `isDir`) is ignored by `rules`, itself or through a parent folder. */
function isIgnored(rules: readonly Rule[], path: string, pathIsDir = false): boolean {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const isDir = i < parts.length || pathIsDir;
    let ignored = false;
    for (const r of rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.re.test(prefix)) ignored = !r.negate;
    }
    if (ignored) return true;
  }
  return false;
}

/** A predicate over relative paths (files, or folders when `isDir`) for the given pattern lines. */
export function ignoreMatcher(lines: readonly string[]): (path: string, isDir?: boolean) => boolean {
  const rules = parseIgnore(lines);
  return (path, isDir = false) => isIgnored(rules, path, isDir);
}
