import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BonsaiError } from '../errors.ts';
import type { BatcherState } from '../data/index.ts';
import { listCheckpoints, pruneCheckpoints, verifyCheckpointDir, writeCheckpointDir } from './checkpoint-io.ts';
import { configFromStored, describeConfig, sameArchitecture, storedConfig, type LMConfig } from './lm-config.ts';
import { paramSpecs } from './layout.ts';
import { openSafetensors, readSafetensors, safetensorsChunks } from './safetensors.ts';
import type { SpecialTokenRuleName, TokenizerKind } from './tokenizer.ts';
import { checkpointRule } from './hf-tokenizer-files.ts';
import type { RngState } from '../util/rng.ts';
import type { AdapterSet } from '../lora/adapters.ts';
import { LORA_STATE, readLoraState } from '../lora/state.ts';
import { mergeAdapters } from '../lora/merge.ts';

/**
 * Everything beyond the weights that resuming needs to continue the same curve: the loop
 * driver's position (step, optimizer step, sampling RNG, tracking run) plus the trainer's
 * own fields (SFT: `batcher`; RL: `prompts` and `reference`, see rl-resume.ts).
 */
export interface TrainingState {
  step: number;
  optimizerT: number;
  rng: RngState;
  /** The tracking run this training belongs to, so a resume can continue it. */
  runId?: string;
  /** SFT: where the training batches stand. */
  batcher?: BatcherState;
  /** A trainer's other fields. */
  [field: string]: unknown;
}

export interface CheckpointContents {
  config: LMConfig;
  tokenizer: TokenizerKind;
  /**
   * Tokenizer hf: the special-token rule the run fed the model (models/special-tokens.ts),
   * recorded as config.json `special_tokens` so every reader feeds the same ids. Absent in
   * checkpoints written before the rule existed: they fed the text alone (read back as 'none').
   */
  specialTokens?: SpecialTokenRuleName;
  weights: Map<string, Float32Array>;
  /** Present in training checkpoints. */
  optimizer?: Map<string, { shape: number[]; data: Float32Array }>;
  state?: TrainingState;
  /** A LoRA run's adapters by adapted path (read only with `adapters: 'separate'`; otherwise merged into `weights`). */
  adapters?: AdapterSet;
  /** Files written as they are beside the model (a LoRA run's adapter files: lora/build.ts). */
  files?: Record<string, Buffer | string>;
}

const FORMAT = 'bonsai-checkpoint-1';

/** `step-00000100`: zero-padded so names sort by step. */
function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/**
 * Writes a checkpoint directory atomically (temp dir, fsync, rename): a crash mid-write
 * leaves the previous checkpoint intact. Files: model.safetensors, config.json,
 * optimizer.safetensors + state.json (training), recipe.yaml, manifest.json (sizes, sha256).
 */
export function saveCheckpoint(dir: string, c: CheckpointContents & { recipeYaml?: string }): void {
  const toEntries = (m: Map<string, { shape: number[]; data: Float32Array }>) =>
    Object.fromEntries([...m].map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: v.data }]));
  const shapes = new Map(paramSpecs(c.config).map((s) => [s.path, s.shape]));
  const weights = new Map([...c.weights].map(([k, data]) => [k, { shape: shapes.get(k)!, data }]));
  const files: Record<string, Buffer | string | ReturnType<typeof safetensorsChunks>> = {
    'model.safetensors': safetensorsChunks(toEntries(weights), { format: FORMAT }),
    'config.json': JSON.stringify({ format: FORMAT, tokenizer: c.tokenizer, ...(c.specialTokens ? { special_tokens: c.specialTokens } : {}), model: storedConfig(c.config) }, null, 2),
  };
  if (c.optimizer) files['optimizer.safetensors'] = safetensorsChunks(toEntries(c.optimizer), { format: FORMAT });
  if (c.state) files['state.json'] = JSON.stringify(c.state, null, 2);
  if (c.recipeYaml) files['recipe.yaml'] = c.recipeYaml;
  writeCheckpointDir(dir, { ...c.files, ...files });
}

/** Saves into `<outDir>/step-N` and keeps only the newest `keep`. */
export function saveTrainingCheckpoint(outDir: string, keep: number, c: CheckpointContents & { state: TrainingState; recipeYaml?: string }): string {
  const dir = join(outDir, checkpointName(c.state.step));
  saveCheckpoint(dir, c);
  pruneCheckpoints(outDir, keep);
  return dir;
}

/**
 * Refuses to start a fresh run over an out_dir that already holds checkpoints: saving
 * would prune the earlier run's, so nothing written earlier is overwritten by accident.
 */
export function refuseExistingCheckpoints(outDir: string): void {
  const latest = latestCheckpoint(outDir);
  if (latest) {
    throw new BonsaiError(`${outDir} already holds checkpoints (newest: ${latest})`, {
      hint: 'pass --resume to continue that run, or choose another out_dir (e.g. --set run.out_dir=runs/new)',
    });
  }
}

/** The newest complete checkpoint under outDir, or undefined. */
export function latestCheckpoint(outDir: string): string | undefined {
  if (!existsSync(outDir)) return undefined;
  const all = listCheckpoints(outDir);
  return all.length ? all[all.length - 1]!.dir : undefined;
}

/**
 * Reads and verifies a checkpoint (manifest sizes and hashes, tensor names and shapes
 * against the config). `expect`, when given, must describe the same architecture.
 * A LoRA run's checkpoint holds the base weights and the adapters: by default `weights`
 * are the two merged (the trained model, for every reader that just wants it); with
 * `adapters: 'separate'` (resume) the base weights and `adapters` apart.
 */
export function loadCheckpoint(dir: string, expect?: { config?: LMConfig; tokenizer?: TokenizerKind; adapters?: 'merge' | 'separate' }): CheckpointContents {
  // Verified whole (sizes, sha256 chunk by chunk), then read file by file: the weights tensor by tensor.
  const names = verifyCheckpointDir(dir);
  const need = (name: string) => {
    if (!names.has(name)) throw new BonsaiError(`checkpoint ${dir} has no ${name}`);
    return readFileSync(join(dir, name));
  };
  let meta: { format?: string; tokenizer: TokenizerKind; model: LMConfig };
  try {
    meta = JSON.parse(need('config.json').toString('utf8'));
  } catch (e) {
    if (e instanceof BonsaiError) throw e;
    throw new BonsaiError(`checkpoint ${dir}: config.json is not valid JSON`);
  }
  if (meta.format !== FORMAT) throw new BonsaiError(`checkpoint ${dir}: unknown format "${meta.format}" (expected ${FORMAT})`);
  meta.model = configFromStored(meta.model, join(dir, 'config.json'));
  if (expect?.config && !sameArchitecture(expect.config, meta.model)) {
    throw new BonsaiError(
      `checkpoint ${dir} is for another model: it has ${describe(meta.model)}, the recipe asks for ${describe(expect.config)}`,
      { hint: 'resume with the recipe that wrote the checkpoint, or start a fresh out_dir' },
    );
  }
  if (expect?.tokenizer && expect.tokenizer !== meta.tokenizer) {
    throw new BonsaiError(`checkpoint ${dir} was trained with the ${meta.tokenizer} tokenizer, the recipe asks for ${expect.tokenizer}`);
  }
  const weights = new Map<string, Float32Array>();
  if (!names.has('model.safetensors')) throw new BonsaiError(`checkpoint ${dir} has no model.safetensors`);
  const read = openSafetensors(join(dir, 'model.safetensors'));
  try {
    const problems: string[] = [];
    const specs = paramSpecs(meta.model);
    for (const spec of specs) {
      const t = read.entry(spec.path);
      if (!t) problems.push(`missing ${spec.path}`);
      else if (t.shape.join(',') !== spec.shape.join(',')) problems.push(`${spec.path} has shape [${t.shape}], expected [${spec.shape}]`);
    }
    const known = new Set(specs.map((p) => p.path));
    const extra = read.names().filter((k) => !known.has(k));
    if (extra.length) problems.push(`unexpected ${extra.join(', ')}`);
    if (problems.length) throw new BonsaiError(`checkpoint ${dir}: model.safetensors does not match config.json: ${problems.join('; ')}`);
    for (const spec of specs) weights.set(spec.path, read.read(spec.path).data as Float32Array);
  } finally {
    read.close();
  }

  const out: CheckpointContents = { config: meta.model, tokenizer: meta.tokenizer, weights };
  if (names.has(LORA_STATE)) {
    const adapters = readLoraState(need(LORA_STATE), join(dir, LORA_STATE));
    if (expect?.adapters === 'separate') out.adapters = adapters;
    else out.weights = mergeAdapters(weights, adapters, new Map(paramSpecs(meta.model).map((s) => [s.path, s.shape])));
  }
  if (names.has('optimizer.safetensors') && names.has('state.json')) {
    const opt = readSafetensors(join(dir, 'optimizer.safetensors'));
    out.optimizer = new Map(Object.entries(opt.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
    out.state = JSON.parse(need('state.json').toString('utf8')) as TrainingState;
  }
  return out;
}

/**
 * The special-token rule of the checkpoint `--resume` continues from: its config.json's
 * `special_tokens`, or 'none' for an hf checkpoint written before the rule existed;
 * undefined without one (no checkpoint, or the byte/gpt2 tokenizer, which have no rule).
 */
export function resumedRule(outDir: string): SpecialTokenRuleName | undefined {
  const latest = latestCheckpoint(outDir);
  if (!latest) return undefined;
  try {
    const meta = JSON.parse(readFileSync(join(latest, 'config.json'), 'utf8')) as Record<string, unknown>;
    return meta.tokenizer === 'hf' ? checkpointRule(meta) : undefined;
  } catch {
    return undefined; // an unreadable checkpoint is reported by the resume itself, with its name
  }
}

function describe(c: LMConfig): string {
  return describeConfig(c);
}
