/** Reading runs back from MLflow's file layout as `mlflow ui` would: meta.yaml and tags/ files. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export interface StoredRun {
  id: string;
  meta: Record<string, unknown>;
  tags: Record<string, string>;
}

/** Every run of the experiment named `name` in the store, from the files themselves. */
export function storedRuns(root: string, name = 'test'): StoredRun[] {
  const exp = readdirSync(root).find((d) => !d.startsWith('.') && YAML.parse(readFileSync(join(root, d, 'meta.yaml'), 'utf8')).name === name)!;
  return readdirSync(join(root, exp), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const dir = join(root, exp, e.name);
      const tags = Object.fromEntries(readdirSync(join(dir, 'tags')).map((t) => [t, readFileSync(join(dir, 'tags', t), 'utf8')]));
      return { id: e.name, meta: YAML.parse(readFileSync(join(dir, 'meta.yaml'), 'utf8')), tags };
    });
}
