/**
 * Peak host memory of loading a Hugging Face checkpoint larger than 2 GiB: a Llama-shaped
 * model of about 683M parameters (2.73 GB in float32, zero weights so the files are sparse:
 * they take no disk), written as one model.safetensors and as three shards. Each layout runs
 * `bonsai generate --hf DIR --max-new-tokens 1` under /usr/bin/time and reports its maximum
 * RSS beside the model's float32 bytes and its largest tensor; a tiny model's run gives the
 * process's own baseline. The files are removed at the end.
 *
 *   node bin/run-ts.js bench/load-rss.ts [--backend cpu|wasm] [--bin PATH/bin/bonsai.js]
 *
 * `--bin` runs another checkout's bonsai on the same files (e.g. the code before streaming).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, ftruncateSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decoderConfigFromHf } from '../src/models/families/config.ts';
import { hfTensorSpecs } from '../src/models/families/tensors.ts';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const backend = opt('--backend', 'cpu');
const bin = opt('--bin', join(import.meta.dirname, '..', 'bin', 'bonsai.js'));

const CONFIG = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu', vocab_size: 32000, hidden_size: 2048,
  intermediate_size: 5632, num_hidden_layers: 12, num_attention_heads: 16, num_key_value_heads: 16,
  max_position_embeddings: 64, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, torch_dtype: 'float32',
  bos_token_id: 280, eos_token_id: 280,
};

/** A sparse safetensors file holding `names` (F32, zero) of the given shapes; returns its size. */
function writeSparse(path: string, tensors: Array<[string, number[]]>): number {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, d) => a * d, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(path, 'w');
  writeSync(fd, len, 0, 8, 0);
  writeSync(fd, json, 0, json.length, 8);
  ftruncateSync(fd, 8 + json.length + at);
  closeSync(fd);
  return 8 + json.length + at;
}

function modelDir(root: string, shards: number): string {
  const dir = join(root, shards === 1 ? 'single' : `shards-${shards}`);
  mkdirSync(dir, { recursive: true });
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) cpSync(join('test/fixtures/hf/llama3', f), join(dir, f));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
  const specs = [...hfTensorSpecs(decoderConfigFromHf(CONFIG, 'config.json'))].map(([n, s]) => [n, s.shape] as [string, number[]]);
  if (shards === 1) writeSparse(join(dir, 'model.safetensors'), specs);
  else {
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = specs.filter((_, i) => i % shards === s);
      total += writeSparse(join(dir, file), part);
      for (const [n] of part) weightMap[n] = file;
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }));
  }
  return dir;
}

/** Maximum RSS (bytes) and exit code of `bonsai generate` on `dir`. */
function peakRss(dir: string): { rss: number; code: number; seconds: number; err: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, bin, 'generate', '--hf', dir, '--prompt', 'the cat', '--max-new-tokens', '1', '--temperature', '0', '--backend', backend, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const err = r.stderr.split('\n').find((l) => /^error|Error/.test(l)) ?? '';
  return { rss: kb * 1024, code: r.status ?? -1, seconds: (performance.now() - t0) / 1000, err };
}

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
const root = join(tmpdir(), `bonsai-load-rss-${process.pid}`);
try {
  const specs = [...hfTensorSpecs(decoderConfigFromHf(CONFIG, 'config.json')).values()];
  const sizes = specs.map((s) => s.shape.reduce((a, d) => a * d, 1) * 4);
  const model = sizes.reduce((a, b) => a + b, 0);
  const largest = Math.max(...sizes);
  console.log(`model: ${(model / 4 / 1e6).toFixed(0)}M parameters, ${gb(model)} float32, largest tensor ${gb(largest)}; backend ${backend}; ${bin}`);
  const base = peakRss('test/fixtures/hf/llama3');
  console.log(`baseline (tiny model): peak RSS ${gb(base.rss)}`);
  for (const shards of [1, 3]) {
    const dir = modelDir(root, shards);
    const r = peakRss(dir);
    const over = r.rss - base.rss - model;
    console.log(`${shards === 1 ? 'one file' : `${shards} shards`}: exit ${r.code}, ${r.seconds.toFixed(0)} s, peak RSS ${gb(r.rss)} = baseline + model + ${gb(over)} (${(over / largest).toFixed(2)} × the largest tensor)${r.err ? `; ${r.err.slice(0, 200)}` : ''}`);
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
