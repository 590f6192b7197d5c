#!/usr/bin/python3
"""Writes test/fixtures/gpt2-tiny: a seeded, random, tiny GPT-2 in Hugging Face's layout,
plus golden logits from PyTorch, for test/models/hf-gpt2.test.ts.

Regenerate (from the repository root; needs Debian's python3-torch, nothing else):

    /usr/bin/python3 scripts/make-gpt2-fixture.py

`/usr/bin/python3` on purpose: it is the interpreter that has torch here. `transformers` is
not needed: the forward pass below is HF's GPT2LMHeadModel (eager attention, eval mode)
written out by hand -- learned positions, pre-LN blocks, Conv1D weights stored [in, out]
with y = x @ W + b, fused c_attn split q|k|v, scores / sqrt(head_dim), causal mask filled
with finfo.min, gelu_new (tanh form), ln_f, lm_head tied to wte. The same seed gives the
same files, byte for byte.

Size: the vocabulary is GPT-2's real 50257 ids so the BPE tokenizer and the recipe path
work on the fixture; to keep the fixture under 1 MB the model is 4 wide (2 heads, 2
layers), and golden.json stores logits for a fixed subset of ids plus the log-sum-exp over
the whole vocabulary and the ln_f output (which, with the tied wte, determines every logit).
"""
import json
import math
import os
import struct

import torch

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'gpt2-tiny'))
SEED = 1234
CONFIG = {
    'activation_function': 'gelu_new',
    'architectures': ['GPT2LMHeadModel'],
    'bos_token_id': 50256,
    'eos_token_id': 50256,
    'initializer_range': 0.02,
    'layer_norm_epsilon': 1e-05,
    'model_type': 'gpt2',
    'n_embd': 4,
    'n_head': 2,
    'n_inner': None,
    'n_layer': 2,
    'n_positions': 16,
    'tie_word_embeddings': True,
    'vocab_size': 50257,
}
# "Hello, my dog is cute" in GPT-2's BPE (the example of HF's docs); the test checks that
# bonsai's tokenizer gives the same ids. The second row has the extreme ids 0 and 50256.
TEXT = 'Hello, my dog is cute'
TEXT_IDS = [15496, 11, 616, 3290, 318, 13779]
OTHER_IDS = [0, 50256, 464, 1, 25000, 198]


def random_weights(g):
    """HF names (GPT2Model, no `transformer.` prefix, as on the Hub) -> float32 tensors.
    Larger than GPT-2's init (std 0.02) so every layer visibly moves the logits."""
    D, L, V, P = CONFIG['n_embd'], CONFIG['n_layer'], CONFIG['vocab_size'], CONFIG['n_positions']
    M = CONFIG['n_inner'] or 4 * D
    n = lambda *shape, std=0.3: torch.randn(*shape, generator=g) * std
    w = {'wte.weight': n(V, D, std=0.5), 'wpe.weight': n(P, D)}
    for i in range(L):
        h = f'h.{i}.'
        w[h + 'ln_1.weight'] = 1 + n(D, std=0.1)
        w[h + 'ln_1.bias'] = n(D, std=0.1)
        w[h + 'attn.c_attn.weight'] = n(D, 3 * D, std=0.6)  # Conv1D: [in, out]
        w[h + 'attn.c_attn.bias'] = n(3 * D, std=0.1)
        w[h + 'attn.c_proj.weight'] = n(D, D)
        w[h + 'attn.c_proj.bias'] = n(D, std=0.1)
        w[h + 'ln_2.weight'] = 1 + n(D, std=0.1)
        w[h + 'ln_2.bias'] = n(D, std=0.1)
        w[h + 'mlp.c_fc.weight'] = n(D, M, std=0.6)
        w[h + 'mlp.c_fc.bias'] = n(M, std=0.1)
        w[h + 'mlp.c_proj.weight'] = n(M, D)
        w[h + 'mlp.c_proj.bias'] = n(D, std=0.1)
    w['ln_f.weight'] = 1 + n(D, std=0.1)
    w['ln_f.bias'] = n(D, std=0.1)
    return {k: v.float().contiguous() for k, v in w.items()}


def conv1d(x, w, b):
    # transformers.pytorch_utils.Conv1D.forward
    size_out = x.size()[:-1] + (w.size(-1),)
    return torch.addmm(b, x.view(-1, x.size(-1)), w).view(size_out)


def gelu_new(x):
    # transformers.activations.NewGELUActivation
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward(w, ids):
    """GPT2LMHeadModel(ids).logits and the ln_f output, in eval mode (no dropout)."""
    D, H, eps = CONFIG['n_embd'], CONFIG['n_head'], CONFIG['layer_norm_epsilon']
    B, T = ids.shape
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (D,), w[p + '.weight'], w[p + '.bias'], eps)
    x = w['wte.weight'][ids] + w['wpe.weight'][torch.arange(T)][None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    heads = lambda t: t.view(B, T, H, D // H).permute(0, 2, 1, 3)  # GPT2Attention._split_heads
    for i in range(CONFIG['n_layer']):
        h = f'h.{i}.'
        a = ln(x, h + 'ln_1')
        q, k, v = conv1d(a, w[h + 'attn.c_attn.weight'], w[h + 'attn.c_attn.bias']).split(D, dim=2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], v.size(-1) ** 0.5)
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(scores.dtype).min))
        z = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).reshape(B, T, D)
        x = x + conv1d(z, w[h + 'attn.c_proj.weight'], w[h + 'attn.c_proj.bias'])
        m = gelu_new(conv1d(ln(x, h + 'ln_2'), w[h + 'mlp.c_fc.weight'], w[h + 'mlp.c_fc.bias']))
        x = x + conv1d(m, w[h + 'mlp.c_proj.weight'], w[h + 'mlp.c_proj.bias'])
    final = ln(x, 'ln_f')
    return final @ w['wte.weight'].T, final  # lm_head tied to wte


def write_safetensors(path, tensors):
    """The reference writer's layout: header {__metadata__, tensors by (dtype, name)} as
    compact JSON, space-padded to 8 bytes, then the data, little-endian."""
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(tensors):  # all F32, so dtype order is name order
        data = tensors[name].numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def rounded(t):
    return [float(f'{v:.8g}') for v in t.flatten().tolist()]


def main():
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED)
    w = random_weights(g)
    ids = torch.tensor([TEXT_IDS, OTHER_IDS])
    with torch.no_grad():
        logits, final = forward(w, ids)  # [B, T, V], [B, T, D]
        logits64, _ = forward({k: v.double() for k, v in w.items()}, ids)
    V = CONFIG['vocab_size']
    subset = sorted(set(range(16)) | set(range(V - 16, V)) | set(range(0, V, 257)) | set(ids.flatten().tolist()) | set(logits.argmax(-1).flatten().tolist()))
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, 'model.safetensors'), w)
    with open(os.path.join(OUT, 'config.json'), 'w') as f:
        json.dump(CONFIG, f, indent=2)
        f.write('\n')
    golden = {
        'note': 'Written by scripts/make-gpt2-fixture.py (PyTorch %s, float32). logits[b][t][j] is the logit of vocab_ids[j].' % torch.__version__,
        'text': TEXT,
        'input_ids': ids.tolist(),
        'vocab_ids': subset,
        'logits': [[rounded(logits[b, t, subset]) for t in range(ids.shape[1])] for b in range(ids.shape[0])],
        'logsumexp': [rounded(r) for r in torch.logsumexp(logits, -1)],
        'final_hidden': [[rounded(r) for r in row] for row in final],
    }
    with open(os.path.join(OUT, 'golden.json'), 'w') as f:
        json.dump(golden, f)
        f.write('\n')
    drift = (logits.double() - logits64).abs().max().item()
    print(f'wrote {OUT}: {len(w)} tensors, {sum(v.numel() for v in w.values())} parameters; '
          f'logits range [{logits.min():.3f}, {logits.max():.3f}]; float32 vs float64 max |diff| {drift:.2e}')


if __name__ == '__main__':
    main()
