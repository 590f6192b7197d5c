/**
 * The component registry's primitives: a leaf below every concept. Each concept's kind
 * table imports these; recipe/ assembles the tables into the schema above them. So this
 * file imports no concept and nothing of recipe/: only the types of the model view a check
 * reads (models/layout.ts, models/tokenizer.ts).
 *
 * The shape. Every swappable part of a recipe (gradient transform,
 * reward, intervention, freeze selector, optimizer, ...) is a *kind*: one entry in its
 * concept's kind table, holding the kind's schema and its `check`, and one entry in that
 * concept's builder table. Both tables are keyed by the kind, and the builder table is a
 * mapped type over the kind table, so a kind without a builder does not compile.
 *
 * Schema and check live apart from the builder for one reason: checks must run without
 * loading a tensor backend (`bonsai recipe validate` loads no tfjs), and most builders make
 * tensors. So kind tables import nothing from tfjs; builder tables may.
 */
import { z } from 'zod';
import type { ModelLayout } from '../models/layout.ts';
import type { Tokenizer } from '../models/tokenizer.ts';

/** One step of a recipe path: a key, or an index into a list. */
export type PathSegment = string | number;

/** A data file as a section names it. */
interface DataFileView {
  format: string;
  path: string;
}

/**
 * What a kind's check may read of the rest of the recipe: each section that passed the
 * schema, fully defaulted (recipe/check.ts hands over the whole checked recipe, which has
 * this shape). A section with type errors is absent, and in list sections an item with type
 * errors is a hole (the array is sparse, so indices still match the file); its errors are
 * already reported, and checks never pile guesses on top of them. Only the fields checks
 * read across sections are named here; a check reads its own entry from its argument.
 */
export interface RecipeView {
  job?: string;
  model?: { tokenizer: string; init: Readonly<Record<string, unknown>> };
  data?: { train: DataFileView; eval?: DataFileView; seq_len?: number };
  probes?: ReadonlyArray<{ name: string; level?: string; train?: unknown }>;
  rewards?: readonly unknown[];
  /** The freeze selectors (a guarded attribution selector checks it is the only one). */
  freeze?: readonly unknown[];
  /** The task metrics the run reports (a held-out split must leave their data out). */
  evals?: ReadonlyArray<{ name: string; data: DataFileView }>;
}

/** What a check can read, and where it reports. */
export interface CheckContext {
  recipe: RecipeView;
  /** The model as its config describes it; absent when `model:` is itself invalid or unreadable. */
  model?: ModelLayout;
  /** The recipe's tokenizer (pure JS); absent when `model:` is invalid. */
  tokenizer?: Tokenizer;
  /** Report one problem at `path` (from the recipe root); checks report every problem, never throw. */
  report(path: readonly PathSegment[], detail: string): void;
}

/** One kind of a component: its schema, and the checks that need the rest of the recipe. */
export interface KindSpec<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  /**
   * Semantic checks of one entry against the resolved recipe and the model's config:
   * hooks exist, globs match, widths agree. `at` is the entry's path in the recipe.
   */
  check?(entry: z.output<S>, at: readonly PathSegment[], ctx: CheckContext): void;
}

/** A concept's kinds, keyed by kind name. */
export type KindTable = { readonly [kind: string]: KindSpec };

/** The parsed entry of kind `K`. */
export type EntryOf<T extends KindTable, K extends keyof T = keyof T> = z.output<T[K]['schema']>;

/**
 * One builder per kind of `T`. A mapped type: leaving a kind out, or adding one the table
 * does not have, is a type error.
 */
export type Builders<T extends KindTable, Args extends unknown[], Out> = {
  readonly [K in keyof T]: (entry: EntryOf<T, K>, ...args: Args) => Out;
};

/** A kind table, typed as written (test/recipe/registry.test.ts checks each kind's `kind` literal is its key). */
export function kindTable<T extends KindTable>(table: T): T {
  return table;
}

/**
 * The discriminated union of a table whose schemas are objects with a literal `kind`:
 * the recipe field that picks one of the kinds. Its output type is the union of the kinds'.
 */
export function kindUnion<T extends { readonly [kind: string]: KindSpec<z.ZodObject> }>(table: T): z.ZodDiscriminatedUnion<Array<T[keyof T]['schema']>, 'kind'> {
  const options = Object.values(table).map((k) => k.schema) as unknown as [z.ZodObject, ...z.ZodObject[]];
  return z.discriminatedUnion('kind', options) as unknown as z.ZodDiscriminatedUnion<Array<T[keyof T]['schema']>, 'kind'>;
}

/** Builds `entry` with the builder of its kind. */
export function build<T extends KindTable, Args extends unknown[], Out>(builders: Builders<T, Args, Out>, kind: keyof T, entry: EntryOf<T>, ...args: Args): Out {
  // TypeScript cannot relate `kind` to `entry`'s member of the union; callers pass the entry's own kind.
  const builder = builders[kind] as (e: EntryOf<T>, ...a: Args) => Out;
  return builder(entry, ...args);
}

/** Runs the check of `entry`'s kind, when it has one. */
export function checkEntry<T extends KindTable>(table: T, kind: keyof T, entry: EntryOf<T>, at: readonly PathSegment[], ctx: CheckContext): void {
  const spec = table[kind] as KindSpec | undefined;
  spec?.check?.(entry, at, ctx);
}

/** Runs each item's check in a list section of `kind`-tagged entries; holes (items with type errors) are skipped. */
export function checkList<T extends KindTable>(table: T, list: ReadonlyArray<EntryOf<T> & { kind: string }> | undefined, section: string, ctx: CheckContext): void {
  list?.forEach((entry, i) => checkEntry(table, entry.kind, entry, [section, i], ctx));
}

/**
 * The plain union of a table's schemas, for concepts whose kind is told by shape rather
 * than by a `kind` field (freeze selectors: a glob string, `{ heads }`, `{ neurons }`, ...).
 */
export function shapeUnion<T extends KindTable>(table: T): z.ZodUnion<Array<T[keyof T]['schema']>> {
  const options = Object.values(table).map((k) => k.schema) as unknown as [z.ZodType, ...z.ZodType[]];
  return z.union(options) as unknown as z.ZodUnion<Array<T[keyof T]['schema']>>;
}

/** One kind's entry, typed so that `check` receives the schema's parsed output. */
export function kind<S extends z.ZodType>(spec: KindSpec<S>): KindSpec<S> {
  return spec;
}
