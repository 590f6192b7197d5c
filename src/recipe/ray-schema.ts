/**
 * The optional `ray:` section: how `bonsai ray submit` asks a Ray cluster to run this
 * recipe. Local `bonsai train` ignores it; it only shapes the job (resources, env, image,
 * what is left out of the shipped working directory).
 */
import { z } from 'zod';

/** The `ray` section; absent means "Ray's defaults" (1 CPU, no GPU, nothing extra). */
export const raySchema = z
  .strictObject({
    cpus: z.number().nonnegative().optional().describe('CPUs reserved for the job (entrypoint_num_cpus). Default: Ray\'s (the entrypoint reserves none).'),
    gpus: z.number().nonnegative().optional().describe('GPUs reserved for the job (entrypoint_num_gpus); needed for the tensorflow-gpu backend on a GPU node.'),
    memory: z.int().positive().optional().describe('Memory reserved for the job in bytes (entrypoint_memory).'),
    env: z
      .record(z.string(), z.string())
      // Checked here rather than as a key schema so the error names the key (zod says only "Invalid key in record").
      .superRefine((env, ctx) => {
        for (const key of Object.keys(env)) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" is not an environment variable name (letters, digits and _, not starting with a digit)` });
        }
      })
      .default({})
      .describe('Environment variables for the job (runtime_env.env_vars), e.g. MLFLOW_TRACKING_URI.'),
    image_uri: z.string().min(1).optional().describe('Container image the job runs in (runtime_env.image_uri); it must have Node.js 20+.'),
    excludes: z
      .array(z.string().min(1))
      .default([])
      .describe('Extra .gitignore-style patterns left out of the shipped working directory (node_modules, .git, runs/, mlruns/, the out_dir and .gitignored files always are).'),
    setup_timeout_seconds: z.int().positive().optional().describe('How long Ray may spend preparing the job\'s environment (runtime_env.config.setup_timeout_seconds).'),
  })
  .optional()
  .describe('Running this recipe as a Ray job (`bonsai ray submit`). Ignored by `bonsai train`.');
