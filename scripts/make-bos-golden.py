"""Reference greedy continuations of "The bonsai grows" on the llama3 fixture, with and without
a BOS first: the done-when case of special tokens (test/cli/generate-bos.test.ts). Uses the
forward and the BPE of scripts/make-family-fixtures.py (the published Llama definition written
out in PyTorch) on the stored weights of test/fixtures/hf/llama3; writes test/fixtures/bos/llama3.json.

    python3 scripts/make-bos-golden.py
"""
import importlib.util
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, '..', 'test', 'fixtures')
PROMPT = 'The bonsai grows'
NEW_TOKENS = 8

spec = importlib.util.spec_from_file_location('fixtures', os.path.join(HERE, 'make-family-fixtures.py'))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)


def read_safetensors(path):
    """F32 tensors by name (the llama3 fixture is stored in F32)."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', name
        a, b = t['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(t['shape'])
    return out


def greedy(cfg, w, ids, stop):
    seq, new, gaps = torch.tensor([ids]), [], []
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            last = fx.llama_forward(cfg, w, seq)[0, -1]
            top = last.topk(2).values
            gaps.append((top[0] - top[1]).item())
            nxt = int(last.argmax())
            new.append(nxt)
            if nxt in stop:
                break
            seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
    return new, min(gaps)


def main():
    src = os.path.join(ROOT, 'hf', 'llama3')
    cfg = json.load(open(os.path.join(src, 'config.json')))
    w = read_safetensors(os.path.join(src, 'model.safetensors'))
    _, specials, _, encode = fx.make_tokenizer()
    bos = specials['<|endoftext|>']
    stop = set(cfg['eos_token_id'])
    ids = encode(PROMPT)
    with_bos, gap_bos = greedy(cfg, w, [bos] + ids, stop)
    without, gap = greedy(cfg, w, ids, stop)
    os.makedirs(os.path.join(ROOT, 'bos'), exist_ok=True)
    with open(os.path.join(ROOT, 'bos', 'llama3.json'), 'w') as f:
        json.dump({
            'note': f'Written by scripts/make-bos-golden.py (PyTorch {torch.__version__}) from test/fixtures/hf/llama3.',
            'prompt': PROMPT, 'bos_id': bos, 'prompt_ids': ids,
            'greedy_with_bos': with_bos, 'min_top2_gap_with_bos': round(gap_bos, 6),
            'greedy_without_bos': without, 'min_top2_gap_without_bos': round(gap, 6),
        }, f, indent=2)
        f.write('\n')
    print(f'with BOS {with_bos} (gap {gap_bos:.4f}); without {without} (gap {gap:.4f})')


if __name__ == '__main__':
    main()
