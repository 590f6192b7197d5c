/**
 * The import graph of src/: every static, type-only and dynamic import between its files, read
 * with TypeScript's own pre-processor (no type check, so it is quick). It finds import circles
 * (strongly connected components) and arrows that run up the layers of docs/DESIGN-style folder
 * order, and counts lines per folder. test/structure/imports.test.ts holds the rules;
 *
 *   node bin/run-ts.js scripts/import-graph.ts [--lines] [--through-index]
 *
 * prints the circles, the upward arrows and (with --lines) the lines per src/ folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** file (relative to src/, with '/') → the src/ files it imports. */
export type ImportGraph = Map<string, Set<string>>;

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const posix = (p: string) => p.split(sep).join('/');

/** Reads every .ts file under `srcDir` and the relative imports between them. */
export function importGraph(srcDir: string): ImportGraph {
  const root = resolve(srcDir);
  const graph: ImportGraph = new Map();
  for (const file of tsFiles(root)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const deps = new Set<string>();
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      let target = resolve(dirname(file), ref.fileName);
      if (target.endsWith('.js')) target = target.slice(0, -3) + '.ts';
      if (!target.endsWith('.ts')) target += '.ts';
      deps.add(posix(relative(root, target)));
    }
    graph.set(posix(relative(root, file)), deps);
  }
  return graph;
}

/** Import circles: each strongly connected component of more than one file (or a file importing itself), sorted. */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: Array<[string, string[]]> = [];
    const enter = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      work.push([v, [...(graph.get(v) ?? [])].filter((w) => graph.has(w)).sort()]);
    };
    enter(start);
    while (work.length) {
      const [v, rest] = work[work.length - 1]!;
      const w = rest.shift();
      if (w !== undefined) {
        if (!index.has(w)) enter(w);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === index.get(v)) {
        const scc: string[] = [];
        let x: string;
        do {
          x = stack.pop()!;
          onStack.delete(x);
          scc.push(x);
        } while (x !== v);
        if (scc.length > 1 || graph.get(v)?.has(v)) out.push(scc.sort());
      }
    }
  }
  return out.sort((a, b) => b.length - a.length || a[0]!.localeCompare(b[0]!));
}

/** The folder a src/ file belongs to ('' for a file at src/'s top). */
export const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');

/** Arrows from a file in one of `lower` up to a file in one of `upper`, as "from -> to". */
export function upwardArrows(graph: ImportGraph, lower: readonly string[], upper: readonly string[]): string[] {
  const out: string[] = [];
  for (const [from, deps] of graph) {
    if (!lower.includes(folderOf(from))) continue;
    for (const to of deps) if (upper.includes(folderOf(to))) out.push(`${from} -> ${to}`);
  }
  return out.sort();
}

/**
 * Imports from one src/ folder into another that go around the target folder's index.ts (its
 * public face), as "from -> to". A folder without an index.ts has no face to go through.
 */
export function besideIndex(graph: ImportGraph): string[] {
  const faces = new Set([...graph.keys()].filter((f) => /^[^/]+\/index\.ts$/.test(f)).map(folderOf));
  const out: string[] = [];
  for (const [from, deps] of graph) {
    for (const to of deps) {
      const folder = folderOf(to);
      if (folder === '' || folder === folderOf(from) || !faces.has(folder)) continue;
      if (to !== `${folder}/index.ts`) out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}

/** Lines and files per src/ folder. */
export function linesPerFolder(srcDir: string): Map<string, { files: number; lines: number }> {
  const out = new Map<string, { files: number; lines: number }>();
  for (const file of tsFiles(resolve(srcDir))) {
    const folder = folderOf(posix(relative(resolve(srcDir), file))) || '(top)';
    const e = out.get(folder) ?? { files: 0, lines: 0 };
    e.files++;
    e.lines += readFileSync(file, 'utf8').split('\n').length - 1;
    out.set(folder, e);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** The folders below trainer/ and distributed/: none of them imports either. */
export const LOWER_FOLDERS = ['util', 'registry', 'backend', 'models', 'lora', 'data', 'gradients', 'probes', 'rewards', 'sae', 'diff', 'tracking'] as const;
export const UPPER_FOLDERS = ['trainer', 'distributed'] as const;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const graph = importGraph(src);
  const cycles = importCycles(graph);
  const edges = [...graph.values()].reduce((n, d) => n + d.size, 0);
  console.log(`${graph.size} files, ${edges} imports; ${cycles.length} circle(s)`);
  for (const c of cycles) console.log(`  circle of ${c.length}: ${c.join(' ')}`);
  const up = upwardArrows(graph, LOWER_FOLDERS, UPPER_FOLDERS);
  console.log(`${up.length} upward arrow(s) into ${UPPER_FOLDERS.join('/, ')}/`);
  for (const a of up) console.log(`  ${a}`);
  const cross = [...graph].flatMap(([f, d]) => [...d].filter((t) => folderOf(t) !== folderOf(f) && folderOf(t) !== '')).length;
  const beside = besideIndex(graph);
  console.log(`cross-folder imports: ${cross}; around a folder's index.ts: ${beside.length}`);
  if (process.argv.includes('--through-index')) for (const b of beside) console.log(`  ${b}`);
  if (process.argv.includes('--lines')) {
    let total = 0;
    for (const [folder, { files, lines }] of linesPerFolder(src)) {
      console.log(`  ${folder.padEnd(12)} ${String(files).padStart(3)} files ${String(lines).padStart(6)} lines`);
      total += lines;
    }
    console.log(`  total ${total} lines`);
  }
}
