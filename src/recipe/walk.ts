/**
 * Walking the recipe schema by path. Unknown-key suggestions and `--set` path checks both
 * need "what may appear here?", and answering it from the schema itself means a new field
 * or component kind is known to them without any second list to keep in sync.
 */
import { z } from 'zod';
import type { PathSegment } from '../registry/kinds.ts';

/** The data at `path` inside `data`, or undefined when any step is missing. */
export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<PathSegment, unknown>)[seg];
  }
  return cur;
}

/** Strip wrappers that do not change which keys are allowed (defaults, optional, transforms). */
function unwrap(schema: z.ZodType): z.ZodType {
  for (;;) {
    if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional) {
      schema = schema.unwrap() as z.ZodType;
    } else if (schema instanceof z.ZodPipe) {
      schema = schema.in as z.ZodType;
    } else {
      return schema;
    }
  }
}

/** The object schemas a value may take at this point: one, or one per union member. */
function objectsOf(schema: z.ZodType): z.ZodObject[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) return [s];
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).flatMap(objectsOf);
  return [];
}

type Shape = Record<string, z.ZodType>;

/**
 * The fields allowed in the object at this point, given its `data`. For a discriminated
 * union the member is chosen by the data's discriminator; when that is missing or invalid,
 * all members' fields are merged so suggestions still cover every kind.
 */
function shapeFor(schema: z.ZodType, data: unknown): Shape | undefined {
  const s = unwrap(schema);
  const members = objectsOf(s);
  if (s instanceof z.ZodDiscriminatedUnion) {
    const key = s.def.discriminator;
    const match = members.find((m) => m.shape[key]?.safeParse(valueAt(data, [key])).success);
    if (match) return match.shape;
  }
  return members.length > 0 ? Object.assign({}, ...members.map((m) => m.shape)) : undefined;
}

/** The keys allowed in the object at this point of the schema (empty when it is not an object). */
export function keysAt(schema: z.ZodType, data: unknown): string[] {
  return Object.keys(shapeFor(schema, data) ?? {});
}

/** Result of following a path into the schema. */
export type SchemaStep =
  | { ok: true; schema: z.ZodType }
  | { ok: false; at: PathSegment[]; segment: PathSegment; keys: string[] };

/**
 * Follow `path` from `root`, choosing union members by `data`. Fails at the first segment
 * the schema does not allow, reporting where and which keys would have been allowed.
 */
export function schemaAt(root: z.ZodType, path: readonly PathSegment[], data: unknown): SchemaStep {
  let schema = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const here = path.slice(0, i);
    const s = unwrap(schema);
    const isIndex = typeof seg === 'number';
    if (s instanceof z.ZodArray && isIndex) {
      schema = s.element as z.ZodType;
    } else if (s instanceof z.ZodTuple && isIndex && seg < s.def.items.length) {
      schema = s.def.items[seg] as z.ZodType;
    } else {
      const shape = isIndex ? undefined : shapeFor(s, valueAt(data, here));
      if (!shape || !Object.hasOwn(shape, seg)) {
        return { ok: false, at: here, segment: seg, keys: Object.keys(shape ?? {}) };
      }
      schema = shape[seg]!;
    }
  }
  return { ok: true, schema };
}

/** A fresh copy of the value a field takes when absent (its default), or undefined if none. */
export function defaultOf(schema: z.ZodType): unknown {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) return structuredClone(schema.def.defaultValue);
  return undefined;
}
