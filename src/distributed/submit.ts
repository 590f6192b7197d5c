/**
 * One recipe, one Ray job: validate the recipe here (every error before anything leaves
 * the machine), ship the working directory as a content-named package (uploaded only
 * when the cluster lacks it), and submit `npx bonsai train` with the recipe's resources
 * and environment. Sweeps call this once per point.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { BonsaiError } from '../errors.ts';
import { loadRecipe, type Recipe } from '../recipe/index.ts';
import { DEFAULT_TRACKING_URI } from '../tracking/index.ts';
import { RayJobsClient } from './client.ts';
import { trainEntrypoint } from './entrypoint.ts';
import { packWorkingDir } from './package.ts';
import { checkRecipePaths } from './recipe-paths.ts';

export interface RecipeJobRequest {
  /** The dashboard, e.g. http://head:8265; else RAY_ADDRESS; an error if neither. */
  address?: string;
  /** Path of the recipe file, relative to workingDir or absolute inside it. */
  recipePath: string;
  /** `--set path=value` overrides, checked here and passed on to `bonsai train`. */
  sets?: string[];
  /** The folder shipped as the job's working directory; default process.cwd(). */
  workingDir?: string;
  /** Extra runtime_env.env_vars, merged over the recipe's ray.env. */
  env?: Record<string, string>;
  cpus?: number;
  gpus?: number;
  metadata?: Record<string, string>;
  submissionId?: string;
  /** Bearer token; default from RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH / ~/.ray/auth_token. */
  token?: string;
  /** Package size limit in bytes; default BONSAI_RAY_MAX_PACKAGE_BYTES or 512 MiB. */
  maxPackageBytes?: number;
}

export interface RecipeJobSubmitted {
  submissionId: string;
  address: string;
  packageUri: string;
  /** False when the cluster already held this exact package. */
  uploaded: boolean;
  entrypoint: string;
  /** Things that will not fail the job but may lose its results (e.g. a local tracking folder). */
  warnings: string[];
}

/** Ships the working directory and submits the recipe as one Ray job. */
export async function submitRecipeJob(req: RecipeJobRequest): Promise<RecipeJobSubmitted> {
  const address = req.address ?? process.env.RAY_ADDRESS;
  if (!address) throw new BonsaiError('no Ray cluster to submit to', { hint: 'pass --address http://<head>:8265 or set RAY_ADDRESS' });
  const workingDir = resolve(req.workingDir ?? process.cwd());
  checkBonsaiProject(workingDir);
  const recipeRel = recipeInside(workingDir, req.recipePath);
  const sets = req.sets ?? [];
  const recipe = loadIn(workingDir, recipeRel, sets);
  const ray = recipe.ray;

  const env: Record<string, string> = {
    ...(process.env.MLFLOW_TRACKING_URI ? { MLFLOW_TRACKING_URI: process.env.MLFLOW_TRACKING_URI } : {}),
    ...ray?.env,
    ...req.env,
  };
  const warnings = trackingWarnings(recipe, env);
  const outDir = relative(workingDir, resolve(workingDir, recipe.run.out_dir)).split(sep).join('/');
  const excludes = [...(ray?.excludes ?? []), ...(outDir && !outDir.startsWith('..') ? [`/${outDir}/`] : [])];
  const pkg = packWorkingDir(workingDir, { excludes, maxBytes: req.maxPackageBytes });
  if (!pkg.files.includes(recipeRel)) {
    throw new BonsaiError(`the recipe ${recipeRel} would not be shipped: .gitignore or ray.excludes leaves it out`, { hint: 'move it, or stop ignoring it' });
  }
  warnings.push(...checkRecipePaths(recipe, workingDir, pkg.files));

  const client = new RayJobsClient(address, { token: req.token });
  await client.version(); // unreachable, refused or not Ray: said before anything is sent
  const uploaded = !(await client.packageExists(pkg.uri));
  if (uploaded) await client.uploadPackage(pkg.uri, pkg.zip);
  const entrypoint = trainEntrypoint(recipeRel, sets);
  const cpus = req.cpus ?? ray?.cpus;
  const gpus = req.gpus ?? ray?.gpus;
  const { submission_id } = await client.submit({
    entrypoint,
    ...(req.submissionId ? { submission_id: req.submissionId } : {}),
    runtime_env: {
      working_dir: pkg.uri,
      env_vars: env,
      ...(ray?.image_uri ? { image_uri: ray.image_uri } : {}),
      ...(ray?.setup_timeout_seconds ? { config: { setup_timeout_seconds: ray.setup_timeout_seconds } } : {}),
    },
    metadata: { 'bonsai.recipe': recipeRel, 'bonsai.run': recipe.run.name, ...req.metadata },
    ...(cpus !== undefined ? { entrypoint_num_cpus: cpus } : {}),
    ...(gpus !== undefined ? { entrypoint_num_gpus: gpus } : {}),
    ...(ray?.memory !== undefined ? { entrypoint_memory: ray.memory } : {}),
  });
  return { submissionId: submission_id, address: client.address, packageUri: pkg.uri, uploaded, entrypoint, warnings };
}

/** The worker runs `npx bonsai`, which resolves only inside a project that has bonsai. */
function checkBonsaiProject(dir: string): void {
  let pkg: { name?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> } = {};
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    /* no or unreadable package.json: refused below */
  }
  if (pkg.name === 'bonsai' || pkg.dependencies?.bonsai || pkg.devDependencies?.bonsai) return;
  throw new BonsaiError(`${dir} is not a bonsai project (its package.json neither is bonsai nor depends on it)`, {
    hint: 'submit from the bonsai checkout, or from a project with bonsai in its dependencies, so `npx bonsai` works on the worker',
  });
}

/** The recipe's path relative to the working directory (forward slashes); it must be inside. */
function recipeInside(workingDir: string, recipePath: string): string {
  const abs = isAbsolute(recipePath) ? recipePath : resolve(workingDir, recipePath);
  const rel = relative(workingDir, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new BonsaiError(`the recipe ${recipePath} is outside the working directory ${workingDir}`, { hint: 'only the working directory is shipped; put the recipe inside it' });
  }
  if (!existsSync(abs)) throw new BonsaiError('cannot read recipe: no such file', { where: recipePath });
  return rel.split(sep).join('/');
}

/**
 * Loads the recipe as the worker will: paths resolve against the working directory.
 * loadRecipe is synchronous, so the directory change cannot leak into other work.
 */
function loadIn(workingDir: string, recipeRel: string, sets: readonly string[]): Recipe {
  const before = process.cwd();
  if (before === workingDir) return loadRecipe(recipeRel, { overrides: sets });
  process.chdir(workingDir);
  try {
    return loadRecipe(recipeRel, { overrides: sets });
  } finally {
    process.chdir(before);
  }
}

/** A tracking folder on the worker vanishes with it: say so (the job still runs). */
function trackingWarnings(recipe: Recipe, env: Record<string, string>): string[] {
  const uri = recipe.tracking.uri === DEFAULT_TRACKING_URI ? (env.MLFLOW_TRACKING_URI ?? DEFAULT_TRACKING_URI) : recipe.tracking.uri;
  if (/^https?:\/\//i.test(uri) || uri.trim().toLowerCase() === 'none') return [];
  return [
    `tracking goes to the folder "${uri}" on the worker, which is lost with the worker's copy of the working directory; set MLFLOW_TRACKING_URI to a shared MLflow server (http://…), or tracking.uri in the recipe`,
  ];
}
