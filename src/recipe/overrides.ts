/**
 * `--set path=value` overrides. They are applied to the parsed data before validation, so
 * a bad value is reported like any other recipe error, located at the `--set` instead of
 * a line. Paths are checked against the schema, not the file: a defaulted field absent
 * from the file may be set, a misspelt one may not.
 */
import type { z } from 'zod';
import { describeValue, dotted, RecipeIssue } from './issues.ts';
import { suggestion } from '../registry/suggest.ts';
import { defaultOf, schemaAt } from './walk.ts';
import type { PathSegment } from '../registry/kinds.ts';
import { MAX_ALIASES, parseYaml, refusedTags, tagRefusal, toPlainData } from './yaml.ts';

/** One `--set` that was applied: what it wrote where, and its text for error locations. */
export interface Override {
  text: string;
  path: PathSegment[];
  value: unknown;
}

/** `a.b[0].c` or `a.b.0.c` to segments; undefined when malformed (empty or odd segments). */
export function parsePath(text: string): PathSegment[] | undefined {
  const out: PathSegment[] = [];
  for (const part of text.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    out.push(/^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

/** A `--set` value as YAML, with the recipe's own rules: core tags only, aliases capped. */
export function parseValue(text: string): { value: unknown } | { error: string } {
  const { doc, lines } = parseYaml(text);
  if (doc.errors.length > 0) return { error: `value is not valid YAML: ${doc.errors[0]!.message}` };
  const tag = refusedTags(doc, lines)[0];
  if (tag) return { error: tagRefusal(tag.tag) };
  const plain = toPlainData(doc);
  return plain ? { value: plain.data } : { error: `value's aliases expand past the limit (${MAX_ALIASES})` };
}

/**
 * Write `value` at `path`, creating what is missing on the way. A missing field starts
 * from its default, so `--set trainer.optimizer.betas[1]=0.95` keeps beta1 at 0.9.
 */
function write(
  data: Record<string, unknown>,
  path: PathSegment[],
  value: unknown,
  schema: z.ZodType,
): string | undefined {
  let cur: unknown = data;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const container = cur as Record<PathSegment, unknown>;
    if (Array.isArray(cur) && (seg as number) > cur.length) {
      return `${dotted(path.slice(0, i))} has ${cur.length} items; index ${seg} would leave a gap`;
    }
    if (i === path.length - 1) {
      container[seg] = value;
      return undefined;
    }
    const wantList = typeof path[i + 1] === 'number';
    if (container[seg] === undefined || container[seg] === null) {
      const step = schemaAt(schema, path.slice(0, i + 1), data);
      const fallback = step.ok ? defaultOf(step.schema) : undefined;
      container[seg] = typeof fallback === 'object' && fallback !== null ? fallback : wantList ? [] : {};
    }
    cur = container[seg];
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) !== wantList) {
      return `${dotted(path.slice(0, i + 1))} is ${describeValue(cur)}, not ${wantList ? 'a list' : 'a mapping'}`;
    }
  }
  return undefined;
}

/**
 * Apply `--set` strings to `data` in order (later ones win). Returns what was applied and
 * one error per `--set` that could not be: malformed, unknown path, or unparsable value.
 */
export function applyOverrides(
  data: Record<string, unknown>,
  sets: readonly string[],
  schema: z.ZodType,
): { applied: Override[]; errors: RecipeIssue[] } {
  const applied: Override[] = [];
  const errors: RecipeIssue[] = [];
  for (const text of sets) {
    const where = `--set ${text}`;
    const fail = (detail: string, path: PathSegment[] = []) => errors.push(new RecipeIssue(detail, { where, path }));
    const eq = text.indexOf('=');
    const path = eq > 0 ? parsePath(text.slice(0, eq).trim()) : undefined;
    if (!path) {
      fail('expected path=value, e.g. --set trainer.optimizer.lr=1e-3 or --set gradients[0].max_norm=1');
      continue;
    }
    const step = schemaAt(schema, path, data);
    if (!step.ok) {
      const { at, segment, keys } = step;
      fail(typeof segment === 'number' ? 'no such list item' : `unknown key; ${suggestion(segment, keys)}`, [...at, segment]);
      continue;
    }
    const parsed = parseValue(text.slice(eq + 1));
    if ('error' in parsed) {
      fail(parsed.error, path);
      continue;
    }
    const problem = write(data, path, parsed.value, schema);
    if (problem) fail(`cannot set: ${problem}`, path);
    else applied.push({ text, path, value: parsed.value });
  }
  return { applied, errors };
}
