/**
 * Recipe errors as a user reads them. zod's issues are turned into one sentence each, in
 * the recipe's own terms (mapping, list, integer), with the offending value quoted.
 */
import type { z } from 'zod';
import { BonsaiError } from '../errors.ts';
import { closest, suggestion } from '../registry/suggest.ts';
import { keysAt, schemaAt, valueAt } from './walk.ts';
import type { PathSegment } from '../registry/kinds.ts';

/** A path as users write it: `trainer.optimizer.lr`, `gradients.0.kind`. */
export function dotted(path: readonly PathSegment[]): string {
  return path.join('.');
}

/** One problem in a recipe, located at `file:line:col` or at the `--set` that caused it. */
export class RecipeIssue extends BonsaiError {
  /** Dotted path of the field, '' for the recipe as a whole. */
  readonly path: string;
  /** 1-based line and column in the recipe file; absent for `--set` and file-level errors. */
  readonly line?: number;
  readonly col?: number;

  constructor(detail: string, at: { where: string; path: readonly PathSegment[]; line?: number; col?: number }) {
    const path = dotted(at.path);
    super(path ? `${path}: ${detail}` : detail, { where: at.where });
    this.name = 'RecipeIssue';
    this.path = path;
    this.line = at.line;
    this.col = at.col;
  }
}

/** A problem found by validation, before it is given a place in the file. */
export interface Finding {
  path: PathSegment[];
  detail: string;
}

/** How a value reads in a message: `string "fast"`, `number -1`, `a list`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_NAMES: Record<string, string> = { int: 'integer', object: 'mapping', array: 'list', tuple: 'list' };

function oneOf(value: unknown, choices: readonly unknown[]): string {
  const names = choices.map(String);
  const near = typeof value === 'string' ? closest(value, names) : undefined;
  return `expected one of ${names.join(' | ')}, got ${describeValue(value)}${near ? `; did you mean "${near}"?` : ''}`;
}

function bound(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, value: unknown): string {
  const big = issue.code === 'too_big';
  const limit = Number(big ? issue.maximum : issue.minimum);
  // z.int() bounds every integer by the safe range; saying "<= 9007199254740991" helps no one.
  if (issue.origin === 'int' && Math.abs(limit) === Number.MAX_SAFE_INTEGER) {
    return `must be a safe integer, got ${String(value)}`;
  }
  if (issue.origin === 'number' || issue.origin === 'int') {
    const op = (big ? '<' : '>') + (issue.inclusive ? '=' : '');
    return `must be ${op} ${limit}, got ${String(value)}`;
  }
  if (issue.origin === 'string' && !big && limit === 1) return 'must not be empty';
  const count = Array.isArray(value) ? `, got ${value.length}` : '';
  const unit = issue.origin === 'array' ? 'items' : 'characters';
  return `must have ${big ? 'at most' : 'at least'} ${limit} ${unit}${count}`;
}

/** The keys `schema` allows in the object at `path` of `data`. */
function allowedKeys(schema: z.ZodType, data: unknown, path: PathSegment[]): string[] {
  const step = schemaAt(schema, path, data);
  return step.ok ? keysAt(step.schema, valueAt(data, path)) : [];
}

/**
 * Explain one issue `schema` raised on `data`. An unknown-keys issue becomes one finding
 * per key, at that key, naming the nearest valid key or listing them all when none is near.
 */
export function explain(issue: z.core.$ZodIssue, data: unknown, schema: z.ZodType): Finding[] {
  const path = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  const value = valueAt(data, path);
  const one = (detail: string): Finding[] => [{ path, detail }];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: [...path, key],
        detail: `unknown key; ${suggestion(key, allowedKeys(schema, data, path))}`,
      }));
    case 'invalid_type':
      if (value === undefined) return one('missing required field');
      return one(`expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describeValue(value)}`);
    case 'invalid_value':
      return one(oneOf(value, issue.values));
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      // A name-or-mapping field (backend: wasm | { kind, threads }): explain the form the value
      // took, i.e. the branch whose issues reach deepest into it (a tie goes to the first).
      const branches = (issue as { errors?: z.core.$ZodIssue[][] }).errors;
      if (!options && branches?.length) {
        // An unknown key lies one level inside the mapping its issue is raised on.
        const depth = (b: z.core.$ZodIssue[]) => Math.min(...b.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 1 : 0)));
        const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
        return best.flatMap((i) => explain({ ...i, path: [...issue.path, ...i.path] } as z.core.$ZodIssue, data, schema));
      }
      if (!options) return one('does not match any allowed form');
      return one(value === undefined ? `missing required field; one of ${options.join(' | ')}` : oneOf(value, options));
    }
    case 'too_big':
    case 'too_small':
      return one(bound(issue, value));
    default:
      return one(issue.message);
  }
}
