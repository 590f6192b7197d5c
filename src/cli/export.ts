import { initBackend } from '../backend/index.ts';
import { BonsaiError } from '../errors.ts';
import { exportMergedAdapter, exportMergedCheckpoint } from '../lora/export.ts';
import { latestCheckpoint } from '../models/checkpoint.ts';
import { parse, usage, type Command } from './args.ts';

const HELP = usage('bonsai export --merge (--checkpoint DIR | --base HF_DIR --adapter DIR) --out DIR', 'Write a model with its LoRA adapters merged, in the Hugging Face layout (docs/lora.md).', [
  ['--merge', 'fold the adapters into the weights: W + scale·B·A (required: the only export there is)'],
  ['--checkpoint DIR', "a checkpoint, e.g. a LoRA run's (or its out_dir: the newest checkpoint); written in its family's Hugging Face layout"],
  ['--base HF_DIR', 'a Hugging Face model directory (GPT-2 or a Llama-style family) ...'],
  ['--adapter DIR', '... and a PEFT adapter for it (adapter_config.json + adapter_model.safetensors)'],
  ['--out DIR', 'the new model directory (must not exist)'],
]);

/** `bonsai export --merge`. */
export const exportCommand: Command = async (argv) => {
  const { values: v } = parse('export', argv, { merge: { type: 'boolean' }, checkpoint: { type: 'string' }, base: { type: 'string' }, adapter: { type: 'string' }, out: { type: 'string' } });
  if (v.help) return (process.stdout.write(HELP), 0);
  if (!v.merge || !v.out || (!v.checkpoint && !(v.base && v.adapter))) {
    process.stderr.write(`bonsai export: --merge, --out and either --checkpoint or --base with --adapter are required\n\n${HELP}`);
    return 2;
  }
  if (v.checkpoint && (v.base || v.adapter)) throw new BonsaiError('export: give --checkpoint, or --base with --adapter, not both');
  await initBackend('cpu'); // reading a GPT-2 directory builds its model once; nothing here needs speed
  const r = v.checkpoint ? exportMergedCheckpoint(latestCheckpoint(v.checkpoint) ?? v.checkpoint, v.out) : exportMergedAdapter(v.base!, v.adapter!, v.out);
  process.stdout.write(`wrote ${v.out}: a ${r.family} model with ${r.merged} adapted weight${r.merged === 1 ? '' : 's'} merged\n`);
  return 0;
};
