/**
 * YAML as recipes read it, for files and `--set` values alike: YAML 1.2 core schema
 * (so `3e-4` is a number and `no` is a string), node positions kept for error locations,
 * only core tags, and aliases capped so an alias bomb fails instead of eating memory.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { PathSegment } from '../registry/kinds.ts';

/** A 1-based line and column in the recipe file. */
export interface Position {
  line: number;
  col: number;
}

/** Enough for any real recipe; a YAML "billion laughs" needs far more. */
export const MAX_ALIASES = 100;

const CORE = 'tag:yaml.org,2002:';
const CORE_TAGS = new Set(['map', 'seq', 'str', 'int', 'float', 'bool', 'null'].map((t) => CORE + t));

/** Parse YAML keeping positions; syntax errors are left on `doc.errors`, with bare messages. */
export function parseYaml(text: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, schema: 'core', uniqueKeys: true });
  return { doc, lines };
}

/** The document as plain data, or undefined when its aliases expand past MAX_ALIASES. */
export function toPlainData(doc: Document): { data: unknown } | undefined {
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
  } catch {
    return undefined;
  }
}

/** Where a node starts in the text. */
export function startOf(node: unknown, lines: LineCounter): Position | undefined {
  const range = (node as Node | null)?.range;
  return range ? lines.linePos(range[0]) : undefined;
}

/** A mapping key as the recipe path names it. */
export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** Why a tag is refused, said the same way for the file and for `--set` values. */
export function tagRefusal(tag: string): string {
  return (
    `tag ${tag} is refused: a recipe is data, so tags that could execute code are refused ` +
    '(only core YAML tags are allowed)'
  );
}

/** A tag that is not core YAML, with the path of the value carrying it and its field's position. */
export interface RefusedTag {
  tag: string;
  path: PathSegment[];
  pos: Position;
}

/**
 * Every tag outside YAML's core schema (`!!js/function`, `!!python/object`, `!custom`, ...).
 * The yaml package would not run them, but a recipe shared between tools should not carry
 * them at all: refusing them keeps recipes plain data everywhere they are read.
 */
export function refusedTags(doc: Document, lines: LineCounter): RefusedTag[] {
  const found: RefusedTag[] = [];
  const visit = (node: unknown, path: PathSegment[], field: unknown) => {
    if (!node || isAlias(node)) return;
    const tag = (node as Node).tag;
    if (tag && !CORE_TAGS.has(tag)) {
      const pos = startOf(field, lines) ?? startOf(node, lines) ?? { line: 1, col: 1 };
      found.push({ tag: tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag, path, pos });
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = keyText(pair.key);
        visit(pair.key, [...path, key], pair.key);
        visit(pair.value, [...path, key], pair.key);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i], item));
    }
  };
  visit(doc.contents, [], doc.contents);
  return found;
}
