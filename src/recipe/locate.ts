/**
 * From a recipe path (`trainer.optimizer.lr`) back to where it is written. Errors point at
 * a field's key (or a list item), which is on the right line whether the value is a scalar
 * or a block below it; a field that is not written points at its nearest written parent.
 */
import { isAlias, isMap, isSeq, type Document, type LineCounter } from 'yaml';
import type { Override } from './overrides.ts';
import type { PathSegment } from '../registry/kinds.ts';
import { keyText, startOf, type Position } from './yaml.ts';

/** Where a path is written: `found` is false when only an ancestor (`depth` segments deep) is. */
export interface Location {
  pos: Position;
  found: boolean;
  depth: number;
}

/** Where `path` is written in `doc`, or its deepest written ancestor when it is not. */
export function locate(doc: Document, lines: LineCounter, path: readonly PathSegment[]): Location {
  let node: unknown = doc.contents;
  let pos = startOf(node, lines) ?? { line: 1, col: 1 };
  for (const [depth, seg] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: { at: unknown; node: unknown } | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (pair) next = { at: pair.key, node: pair.value };
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      next = { at: node.items[seg], node: node.items[seg] };
    }
    if (!next) return { pos, found: false, depth };
    pos = startOf(next.at, lines) ?? pos;
    node = next.node;
  }
  return { pos, found: true, depth: path.length };
}

/** Where an error is reported: `file:line:col`, or the `--set` that put the value there. */
export interface Place {
  where: string;
  path: readonly PathSegment[];
  line?: number;
  col?: number;
}

/**
 * Places errors for one recipe. An error belongs to the last `--set` that wrote at or above
 * its path, or to one that created the part of the path the file lacks (a section absent
 * from the file); otherwise to the file.
 */
export function placer(file: string, doc: Document, lines: LineCounter, applied: readonly Override[]) {
  const latestFirst = [...applied].reverse();
  return (path: readonly PathSegment[]): Place => {
    const shared = (o: Override) => {
      let n = 0;
      while (n < o.path.length && n < path.length && String(o.path[n]) === String(path[n])) n++;
      return n;
    };
    const { pos, found, depth } = locate(doc, lines, path);
    const override =
      latestFirst.find((o) => shared(o) === o.path.length) ?? (found ? undefined : latestFirst.find((o) => shared(o) > depth));
    if (override) return { where: `--set ${override.text}`, path };
    return { where: `${file}:${pos.line}:${pos.col}`, path, line: pos.line, col: pos.col };
  };
}
