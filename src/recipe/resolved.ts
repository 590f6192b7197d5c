/**
 * A resolved recipe as a run records it: the YAML artifact says exactly what ran, every
 * default included, and the flat parameters let a tracking UI compare runs field by field.
 */
import { Document, isScalar, visit } from 'yaml';
import type { Recipe } from './schema.ts';

/** The fully-defaulted recipe as YAML, for logging as an artifact and re-running as is. */
export function resolvedRecipeYaml(recipe: Recipe): string {
  const doc = new Document(recipe);
  // Lists of numbers (betas) read best on one line, as they are usually written.
  visit(doc, {
    Seq(_, seq) {
      seq.flow = seq.items.every(isScalar);
    },
  });
  doc.commentBefore = ' Resolved recipe: every default filled in.';
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/**
 * The recipe as dotted keys to strings, for MLflow params: `trainer.optimizer.lr` → `0.0003`,
 * list items by index (`gradients.0.kind`). Empty lists and mappings are kept as `[]` / `{}`
 * so a run with no gradient transforms still shows `gradients`; absent optional fields are
 * left out.
 */
export function flattenRecipe(recipe: Recipe): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (value: unknown, key: string) => {
    if (value === undefined) return;
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.length === 0) out[key] = Array.isArray(value) ? '[]' : '{}';
      for (const [k, v] of entries) visit(v, key ? `${key}.${k}` : k);
    } else {
      out[key] = String(value);
    }
  };
  visit(recipe, '');
  return out;
}
