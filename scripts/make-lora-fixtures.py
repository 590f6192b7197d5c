#!/usr/bin/python3
"""Writes test/fixtures/lora/<base>/: a PEFT LoRA adapter for a fixture base model
(adapter_config.json + adapter_model.safetensors) and merged.safetensors, the adapted
weights merged by PEFT's published definition, computed here with PyTorch and nothing of
bonsai's. test/lora/merge-fixture.test.ts checks bonsai's reading and merging against it.

Regenerate (from the repository root; needs Debian's python3-torch only -- no peft, no
transformers, whose merge this re-derives):

    /usr/bin/python3 scripts/make-lora-fixtures.py

PEFT's LoRA (peft/tuners/lora/layer.py), what this re-derives:
  lora_A.weight [r, in], lora_B.weight [out, r];
  scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora; rank_pattern and
  alpha_pattern override r and lora_alpha for the modules their keys match (a key matches
  a module named key or ending in ".key");
  merge: W += (B @ A) * scaling for nn.Linear (W [out, in]); for GPT-2's Conv1D
  (fan_in_fan_out, W [in, out]) the delta is transposed: W += (B @ A).T * scaling.
The same seed gives the same files, byte for byte.
"""
import json
import math
import os
import re
import struct

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SEED = 4321


def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        assert h['dtype'] == 'F32', (path, name, h['dtype'])
        b, e = h['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32).reshape(h['shape']).clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(tensors):
        data = tensors[name].float().contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def pattern_value(pattern, module):
    for key, v in pattern.items():
        if re.match(rf'^(.*\.)?({key})$', module):
            return v
    return None


def make(name, base_dir, module_of, targets, cfg):
    """module_of: HF weight name -> (module name, fan_in_fan_out) for adaptable weights."""
    g = torch.Generator().manual_seed(SEED)
    base = read_safetensors(os.path.join(ROOT, base_dir, 'model.safetensors'))
    adapter, merged = {}, {}
    for wname in sorted(base):
        m = module_of(wname)
        if m is None:
            continue
        module, fan_in_fan_out = m
        if module.split('.')[-1] not in targets:
            continue
        w = base[wname]
        out_f, in_f = (w.shape[1], w.shape[0]) if fan_in_fan_out else (w.shape[0], w.shape[1])
        r = pattern_value(cfg['rank_pattern'], module) or cfg['r']
        alpha = pattern_value(cfg['alpha_pattern'], module) or cfg['lora_alpha']
        scaling = alpha / math.sqrt(r) if cfg['use_rslora'] else alpha / r
        # Trained-looking adapters: B nonzero (PEFT starts it at zero, which merges to nothing).
        A = torch.randn(r, in_f, generator=g) * 0.3
        B = torch.randn(out_f, r, generator=g) * 0.3
        adapter[f'base_model.model.{module}.lora_A.weight'] = A
        adapter[f'base_model.model.{module}.lora_B.weight'] = B
        delta = (B @ A) * scaling
        merged[wname] = w + (delta.T if fan_in_fan_out else delta)
    out = os.path.join(ROOT, 'test', 'fixtures', 'lora', name)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, 'adapter_model.safetensors'), adapter)
    write_safetensors(os.path.join(out, 'merged.safetensors'), merged)
    config = {'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'base_model_name_or_path': base_dir, 'target_modules': targets,
              'bias': 'none', 'lora_dropout': 0.0, 'modules_to_save': None, 'inference_mode': True, **cfg}
    with open(os.path.join(out, 'adapter_config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')


def gpt2_module(wname):
    m = re.match(r'^(h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj))\.weight$', wname)
    return (f'transformer.{m.group(1)}', True) if m else None


def llama_module(wname):
    m = re.match(r'^(model\.layers\.\d+\.(self_attn|mlp)\.\w+_proj)\.weight$', wname)
    return (m.group(1), False) if m else None


def main():
    make('gpt2-tiny', 'test/fixtures/gpt2-tiny', gpt2_module, ['c_attn', 'c_proj', 'c_fc'],
         {'r': 2, 'lora_alpha': 4, 'use_rslora': False, 'fan_in_fan_out': True, 'rank_pattern': {}, 'alpha_pattern': {}})
    make('llama3', 'test/fixtures/hf/llama3', llama_module, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
         {'r': 4, 'lora_alpha': 8, 'use_rslora': True, 'fan_in_fan_out': False,
          'rank_pattern': {'model.layers.1.self_attn.q_proj': 2}, 'alpha_pattern': {'o_proj': 3}})


if __name__ == '__main__':
    main()
