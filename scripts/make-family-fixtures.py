#!/usr/bin/python3
"""Writes test/fixtures/hf/<name>/: seeded, random, tiny checkpoints of the decoder families
bonsai loads (Llama, Mistral, Qwen2, Qwen3, GPT-NeoX/Pythia, Gemma 2, Gemma 3, OLMo 2) in Hugging Face's layout, each
with a tiny byte-level BPE tokenizer.json, tokenizer_config.json (chat_template),
generation_config.json and golden.json (input ids, logits over the whole vocabulary, greedy
continuation). For test/models/families/*.test.ts and test/models/hf-tokenizer.test.ts.

Regenerate (from the repository root; needs Debian's python3-torch, nothing else):

    /usr/bin/python3 scripts/make-family-fixtures.py

`transformers` is not installable here, so each forward pass below is the published
modeling code (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
GPTNeoXForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, Olmo2ForCausalLM; eager attention,
eval mode, no KV cache) written out by hand:
  - RMSNorm in float32: x * rsqrt(mean(x^2) + eps) * weight;
  - RoPE: inv_freq = 1 / base^(arange(0, d, 2) / d), cos/sin of cat(freqs, freqs),
    q * cos + rotate_half(q) * sin with rotate_half(x) = cat(-x2, x1) over halves;
    rope_scaling "linear" divides inv_freq by factor; "llama3" rescales by wavelength
    against original_max_position_embeddings (modeling_rope_utils._compute_llama3_parameters);
  - grouped-query attention: kv head j serves query heads j*n_rep .. (j+1)*n_rep - 1
    (repeat_kv), scores * head_dim^-0.5, causal mask, softmax in float32;
  - SwiGLU MLP: down(silu(gate(x)) * up(x));
  - Qwen2: biases on q/k/v projections; Qwen3: RMSNorm over each head's q and k before RoPE,
    head_dim taken from the config (not hidden_size / heads);
  - GPT-NeoX: fused query_key_value viewed [.., heads, 3 * head_size] (per-head q|k|v),
    partial rotary on the first int(head_size * rotary_pct) dims, LayerNorm with bias,
    parallel residual x + attn(ln1(x)) + mlp(ln2(x)), exact (erf) gelu, untied embed_out;
  - sliding windows (Mistral's sliding_window on every layer; Gemma's sliding_attention
    layers): key j visible to query i when 0 <= i - j < sliding_window;
  - Gemma 2 / 3: embedding times sqrt(hidden_size) as a tensor of the model's dtype
    (torch_dtype: bfloat16 rounds it), RMSNorm x * rsqrt(mean(x^2) + eps) * (1 + w) in float32,
    input / post_attention / pre_feedforward / post_feedforward norms, GeGLU with tanh gelu,
    scores * query_pre_attn_scalar^-0.5, soft-capping cap * tanh(s / cap) on scores (before
    the mask) and final logits; layer_types (or the pattern: Gemma 2 alternates from a local
    first layer, Gemma 3 makes every sliding_window_pattern-th layer global); Gemma 3's q/k
    norm per head and its local layers' own RoPE base (rope_local_base_freq, no scaling);
  - OLMo 2: no input norm; h = x + post_attention_layernorm(attn(x)),
    x' = h + post_feedforward_layernorm(mlp(h)); q_norm / k_norm RMSNorm over the whole q and k
    projections before the split into heads and RoPE.
Weights stored in f16/bf16 are rounded first and the reference runs on the rounded values, so
the golden logits are what a float32 forward of the stored checkpoint gives. The same seed
gives the same files, byte for byte.
"""
import json
import math
import os
import re
import struct

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'hf'))
SEED = 2024
NEW_TOKENS = 8
TEXT = 'the cat sat on the mat, then the dog'
LONG_TEXT = 'the cat sat on the mat, then the dog sat on the log; the cat and the dog ran to the mat, and then the cat sat, then the dog ran to the log'
TEXT_OF = {'llama3': LONG_TEXT}
CORPUS = 'the cat sat on the mat. the dog sat on the log. then the cat and the dog ran to the mat. ' * 3
N_MERGES = 40
SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CHAT_MESSAGES = [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'the cat?'}]


# ---------------------------------------------------------------- tokenizer (byte-level BPE)

def bytes_to_unicode():
    """GPT-2's printable stand-ins for the 256 bytes (tokenizers' ByteLevel alphabet)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()
# The GPT-2 split pattern restricted to ASCII (the fixture text is ASCII).
SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def pieces(text):
    return [''.join(BYTE_CHARS[b] for b in w.encode()) for w in SPLIT.findall(text)]


def train_bpe():
    words = [list(p) for p in pieces(CORPUS)]
    merges = []
    for _ in range(N_MERGES):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts or max(counts.values()) < 2:
            break
        best = max(sorted(counts), key=lambda p: counts[p])  # ties: lexicographically first
        merges.append(best)
        words = [merge_word(w, best) for w in words]
    return merges


def merge_word(w, pair):
    out, i = [], 0
    while i < len(w):
        if i + 1 < len(w) and (w[i], w[i + 1]) == pair:
            out.append(w[i] + w[i + 1])
            i += 2
        else:
            out.append(w[i])
            i += 1
    return out


def make_tokenizer():
    merges = train_bpe()
    vocab = {BYTE_CHARS[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    specials = {s: len(vocab) + i for i, s in enumerate(SPECIALS)}
    rank = {m: i for i, m in enumerate(merges)}

    def encode(text):
        ids = []
        for p in pieces(text):
            w = list(p)
            while len(w) > 1:
                pairs = [(rank.get(pr, 1 << 30), pr) for pr in zip(w, w[1:])]
                r, pr = min(pairs)
                if r == 1 << 30:
                    break
                w = merge_word(w, pr)
            ids += [vocab[t] for t in w]
        return ids

    byte_level = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True}
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': [{'id': i, 'content': s, 'single_word': False, 'lstrip': False, 'rstrip': False,
                          'normalized': False, 'special': True} for s, i in specials.items()],
        'normalizer': None, 'pre_tokenizer': byte_level, 'post_processor': byte_level, 'decoder': byte_level,
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': None,
                  'end_of_word_suffix': None, 'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }
    return tok, specials, len(vocab) + len(specials), encode


# ---------------------------------------------------------------- shared pieces of the forward

def rms_norm(x, w, eps):
    x32 = x.float()
    return w * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def inv_freq_of(cfg, dim):
    base = cfg.get('rope_theta', cfg.get('rotary_emb_base', 10000.0))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    scaling = cfg.get('rope_scaling')
    if not scaling:
        return inv_freq
    kind = scaling.get('rope_type', scaling.get('type'))
    if kind == 'linear':
        return inv_freq / scaling['factor']
    assert kind == 'llama3'
    factor, lo, hi = scaling['factor'], scaling['low_freq_factor'], scaling['high_freq_factor']
    old = scaling['original_max_position_embeddings']
    low_wavelen, high_wavelen = old / lo, old / hi
    wavelen = 2 * math.pi / inv_freq
    llama = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - lo) / (hi - lo)
    smoothed = (1 - smooth) * llama / factor + smooth * llama
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, llama)


def cos_sin(cfg, dim, T):
    freqs = torch.arange(T).float()[:, None] @ inv_freq_of(cfg, dim)[None, :]  # [T, dim/2]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()  # attention_scaling is 1.0 for default, linear and llama3


def causal_mask(T, window=None):
    """Additive [T, T]: 0 where key j is visible to query i (j <= i, and i - j < window), finfo.min elsewhere."""
    i, j = torch.arange(T)[:, None], torch.arange(T)[None, :]
    allowed = (j <= i) if window is None else (j <= i) & (i - j < window)
    return torch.where(allowed, torch.tensor(0.0), torch.tensor(torch.finfo(torch.float32).min))


def attend(q, k, v, scale, window=None, softcap=None):
    """q [B, H, T, hd], k/v [B, kvH, T, hd] -> [B, T, H * hd] (eager_attention_forward)."""
    n_rep = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(n_rep, dim=1), v.repeat_interleave(n_rep, dim=1)
    T = q.shape[2]
    scores = (q @ k.transpose(2, 3)) * scale
    if softcap is not None:
        scores = torch.tanh(scores / softcap) * softcap
    scores = scores + causal_mask(T, window)
    p = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    B = q.shape[0]
    return (p @ v).transpose(1, 2).reshape(B, T, -1)


def llama_window(cfg):
    """Mistral: sliding_window on every layer when set; Qwen2/3: only with use_sliding_window (off here)."""
    if cfg['model_type'] == 'mistral':
        return cfg.get('sliding_window')
    return cfg['sliding_window'] if cfg.get('use_sliding_window') else None


def linear(x, w, b=None):
    return torch.nn.functional.linear(x, w, b)


def llama_forward(cfg, w, ids):
    """Llama / Mistral / Qwen2 / Qwen3 (model_type decides q/k/v bias and q/k norm)."""
    D, H, KV = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    hd = cfg.get('head_dim') or D // H
    eps, B, T = cfg['rms_norm_eps'], ids.shape[0], ids.shape[1]
    cos, sin = cos_sin(cfg, hd, T)
    x = w['model.embed_tokens.weight'][ids]
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        a = rms_norm(x, w[p + 'input_layernorm.weight'], eps)
        bias = lambda n: w.get(p + f'self_attn.{n}_proj.bias')
        q = linear(a, w[p + 'self_attn.q_proj.weight'], bias('q')).view(B, T, H, hd)
        k = linear(a, w[p + 'self_attn.k_proj.weight'], bias('k')).view(B, T, KV, hd)
        v = linear(a, w[p + 'self_attn.v_proj.weight'], bias('v')).view(B, T, KV, hd)
        if cfg['model_type'] == 'qwen3':
            q = rms_norm(q, w[p + 'self_attn.q_norm.weight'], eps)
            k = rms_norm(k, w[p + 'self_attn.k_norm.weight'], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        z = attend(q, k, v, hd ** -0.5, llama_window(cfg))
        x = x + linear(z, w[p + 'self_attn.o_proj.weight'])
        m = rms_norm(x, w[p + 'post_attention_layernorm.weight'], eps)
        gated = torch.nn.functional.silu(linear(m, w[p + 'mlp.gate_proj.weight'])) * linear(m, w[p + 'mlp.up_proj.weight'])
        x = x + linear(gated, w[p + 'mlp.down_proj.weight'])
    x = rms_norm(x, w['model.norm.weight'], eps)
    head = w['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else w['lm_head.weight']
    return x @ head.T


def neox_forward(cfg, w, ids):
    D, H, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['layer_norm_eps']
    hd, B, T = D // H, ids.shape[0], ids.shape[1]
    rot = int(hd * cfg['rotary_pct'])
    cos, sin = cos_sin(cfg, rot, T)
    ln = lambda x, n: torch.nn.functional.layer_norm(x, (D,), w[n + '.weight'], w[n + '.bias'], eps)
    x = w['gpt_neox.embed_in.weight'][ids]
    for i in range(cfg['num_hidden_layers']):
        p = f'gpt_neox.layers.{i}.'
        qkv = linear(ln(x, p + 'input_layernorm'), w[p + 'attention.query_key_value.weight'], w[p + 'attention.query_key_value.bias'])
        qkv = qkv.view(B, T, H, 3 * hd).transpose(1, 2)  # [B, H, T, 3hd]
        q, k, v = qkv.chunk(3, dim=-1)
        rope = lambda t: torch.cat((t[..., :rot] * cos + rotate_half(t[..., :rot]) * sin, t[..., rot:]), dim=-1)
        q, k = rope(q), rope(k)
        z = attend(q, k, v, hd ** -0.5)
        attn = linear(z, w[p + 'attention.dense.weight'], w[p + 'attention.dense.bias'])
        h = torch.nn.functional.gelu(linear(ln(x, p + 'post_attention_layernorm'), w[p + 'mlp.dense_h_to_4h.weight'], w[p + 'mlp.dense_h_to_4h.bias']))
        mlp = linear(h, w[p + 'mlp.dense_4h_to_h.weight'], w[p + 'mlp.dense_4h_to_h.bias'])
        assert cfg['use_parallel_residual']
        x = x + attn + mlp
    x = ln(x, 'gpt_neox.final_layer_norm')
    return x @ w['embed_out.weight'].T


def gemma_rms(x, w, eps):
    """Gemma2RMSNorm / Gemma3RMSNorm: in float32, scaled by (1 + w)."""
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)) * (1.0 + w.float())


TORCH_DTYPES = {'float32': torch.float32, 'bfloat16': torch.bfloat16, 'float16': torch.float16}


def gemma_layer_types(cfg):
    if cfg.get('layer_types'):
        return cfg['layer_types']
    pattern = 2 if cfg['model_type'] == 'gemma2' else cfg.get('sliding_window_pattern', 6)
    return ['sliding_attention' if (i + 1) % pattern else 'full_attention' for i in range(cfg['num_hidden_layers'])]


def gemma_forward(cfg, w, ids):
    """Gemma 2 and Gemma 3 (text): model_type decides q/k norm and the local layers' RoPE."""
    D, H, KV, hd = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['head_dim']
    eps, B, T = cfg['rms_norm_eps'], ids.shape[0], ids.shape[1]
    gemma3 = cfg['model_type'] == 'gemma3_text'
    # transformers multiplies by sqrt(hidden_size) as a tensor of the model's dtype.
    normalizer = torch.tensor(D ** 0.5).to(TORCH_DTYPES[cfg['torch_dtype']]).float()
    x = w['model.embed_tokens.weight'][ids] * normalizer
    global_rope = cos_sin(cfg, hd, T)
    local_rope = cos_sin({'rope_theta': cfg['rope_local_base_freq']}, hd, T) if gemma3 else global_rope
    for i, kind in enumerate(gemma_layer_types(cfg)):
        p = f'model.layers.{i}.'
        sliding = kind == 'sliding_attention'
        a = gemma_rms(x, w[p + 'input_layernorm.weight'], eps)
        q = linear(a, w[p + 'self_attn.q_proj.weight']).view(B, T, H, hd)
        k = linear(a, w[p + 'self_attn.k_proj.weight']).view(B, T, KV, hd)
        v = linear(a, w[p + 'self_attn.v_proj.weight']).view(B, T, KV, hd)
        if gemma3:
            q = gemma_rms(q, w[p + 'self_attn.q_norm.weight'], eps)
            k = gemma_rms(k, w[p + 'self_attn.k_norm.weight'], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        cos, sin = local_rope if sliding else global_rope
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        z = attend(q, k, v, cfg['query_pre_attn_scalar'] ** -0.5, cfg['sliding_window'] if sliding else None, cfg.get('attn_logit_softcapping'))
        x = x + gemma_rms(linear(z, w[p + 'self_attn.o_proj.weight']), w[p + 'post_attention_layernorm.weight'], eps)
        m = gemma_rms(x, w[p + 'pre_feedforward_layernorm.weight'], eps)
        gated = torch.nn.functional.gelu(linear(m, w[p + 'mlp.gate_proj.weight']), approximate='tanh') * linear(m, w[p + 'mlp.up_proj.weight'])
        x = x + gemma_rms(linear(gated, w[p + 'mlp.down_proj.weight']), w[p + 'post_feedforward_layernorm.weight'], eps)
    logits = gemma_rms(x, w['model.norm.weight'], eps) @ w['model.embed_tokens.weight'].T
    cap = cfg.get('final_logit_softcapping')
    return logits if cap is None else torch.tanh(logits / cap) * cap


def olmo2_forward(cfg, w, ids):
    D, H, KV = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    hd, eps, B, T = D // H, cfg['rms_norm_eps'], ids.shape[0], ids.shape[1]
    cos, sin = cos_sin(cfg, hd, T)
    x = w['model.embed_tokens.weight'][ids]
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        # q_norm / k_norm: RMSNorm over the whole projection, before the split into heads.
        q = rms_norm(linear(x, w[p + 'self_attn.q_proj.weight']), w[p + 'self_attn.q_norm.weight'], eps).view(B, T, H, hd)
        k = rms_norm(linear(x, w[p + 'self_attn.k_proj.weight']), w[p + 'self_attn.k_norm.weight'], eps).view(B, T, KV, hd)
        v = linear(x, w[p + 'self_attn.v_proj.weight']).view(B, T, KV, hd)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        z = attend(q, k, v, hd ** -0.5)
        x = x + rms_norm(linear(z, w[p + 'self_attn.o_proj.weight']), w[p + 'post_attention_layernorm.weight'], eps)
        gated = torch.nn.functional.silu(linear(x, w[p + 'mlp.gate_proj.weight'])) * linear(x, w[p + 'mlp.up_proj.weight'])
        x = x + rms_norm(linear(gated, w[p + 'mlp.down_proj.weight']), w[p + 'post_feedforward_layernorm.weight'], eps)
    return rms_norm(x, w['model.norm.weight'], eps) @ w['lm_head.weight'].T


# ---------------------------------------------------------------- weights and configs

def attention_weights(w, p, n, D, H, KV, hd):
    w[p + 'self_attn.q_proj.weight'] = n(H * hd, D, std=0.3)
    w[p + 'self_attn.k_proj.weight'] = n(KV * hd, D, std=0.3)
    w[p + 'self_attn.v_proj.weight'] = n(KV * hd, D, std=0.3)
    w[p + 'self_attn.o_proj.weight'] = n(D, H * hd, std=0.2)


def gated_mlp_weights(w, p, n, D, M):
    w[p + 'mlp.gate_proj.weight'] = n(M, D, std=0.3)
    w[p + 'mlp.up_proj.weight'] = n(M, D, std=0.3)
    w[p + 'mlp.down_proj.weight'] = n(D, M, std=0.2)


def llama_weights(cfg, g):
    D, H, KV, L, V = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['num_hidden_layers'], cfg['vocab_size']
    hd, M = cfg.get('head_dim') or D // H, cfg['intermediate_size']
    n = lambda *shape, std: torch.randn(*shape, generator=g) * std
    w = {'model.embed_tokens.weight': n(V, D, std=1.0), 'model.norm.weight': 1 + n(D, std=0.1)}
    for i in range(L):
        p = f'model.layers.{i}.'
        w[p + 'input_layernorm.weight'] = 1 + n(D, std=0.1)
        w[p + 'post_attention_layernorm.weight'] = 1 + n(D, std=0.1)
        attention_weights(w, p, n, D, H, KV, hd)
        if cfg['model_type'] == 'qwen2':
            for x, rows in (('q', H * hd), ('k', KV * hd), ('v', KV * hd)):
                w[p + f'self_attn.{x}_proj.bias'] = n(rows, std=0.3)
        if cfg['model_type'] == 'qwen3':
            w[p + 'self_attn.q_norm.weight'] = 1 + n(hd, std=0.2)
            w[p + 'self_attn.k_norm.weight'] = 1 + n(hd, std=0.2)
        gated_mlp_weights(w, p, n, D, M)
    if not cfg['tie_word_embeddings']:
        w['lm_head.weight'] = n(V, D, std=0.3)
    return w


def gemma_weights(cfg, g):
    """Norm weights near 0 (Gemma scales by 1 + w); q/k norms for Gemma 3; tied. The embedding is small
    (std 0.05, before the sqrt(d) scale) so a random tied model does not just repeat its last token."""
    D, H, KV, L, V = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['num_hidden_layers'], cfg['vocab_size']
    hd, M = cfg['head_dim'], cfg['intermediate_size']
    n = lambda *shape, std: torch.randn(*shape, generator=g) * std
    w = {'model.embed_tokens.weight': n(V, D, std=0.05), 'model.norm.weight': n(D, std=0.1)}
    for i in range(L):
        p = f'model.layers.{i}.'
        for norm in ('input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm'):
            w[p + norm + '.weight'] = n(D, std=0.1)
        attention_weights(w, p, n, D, H, KV, hd)
        if cfg['model_type'] == 'gemma3_text':
            w[p + 'self_attn.q_norm.weight'] = n(hd, std=0.2)
            w[p + 'self_attn.k_norm.weight'] = n(hd, std=0.2)
        gated_mlp_weights(w, p, n, D, M)
    return w


def olmo2_weights(cfg, g):
    """OLMo 2: two norms per block, after attention and after the MLP; q/k norms over whole projections; untied."""
    D, H, KV, L, V, M = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'], cfg['num_hidden_layers'], cfg['vocab_size'], cfg['intermediate_size']
    hd = D // H
    n = lambda *shape, std: torch.randn(*shape, generator=g) * std
    w = {'model.embed_tokens.weight': n(V, D, std=1.0), 'model.norm.weight': 1 + n(D, std=0.1), 'lm_head.weight': n(V, D, std=0.3)}
    for i in range(L):
        p = f'model.layers.{i}.'
        w[p + 'post_attention_layernorm.weight'] = 1 + n(D, std=0.1)
        w[p + 'post_feedforward_layernorm.weight'] = 1 + n(D, std=0.1)
        attention_weights(w, p, n, D, H, KV, hd)
        w[p + 'self_attn.q_norm.weight'] = 1 + n(H * hd, std=0.2)
        w[p + 'self_attn.k_norm.weight'] = 1 + n(KV * hd, std=0.2)
        gated_mlp_weights(w, p, n, D, M)
    return w


def neox_weights(cfg, g):
    D, L, V, M = cfg['hidden_size'], cfg['num_hidden_layers'], cfg['vocab_size'], cfg['intermediate_size']
    n = lambda *shape, std: torch.randn(*shape, generator=g) * std
    w = {'gpt_neox.embed_in.weight': n(V, D, std=1.0), 'embed_out.weight': n(V, D, std=0.3),
         'gpt_neox.final_layer_norm.weight': 1 + n(D, std=0.1), 'gpt_neox.final_layer_norm.bias': n(D, std=0.1)}
    for i in range(L):
        p = f'gpt_neox.layers.{i}.'
        for ln in ('input_layernorm', 'post_attention_layernorm'):
            w[p + ln + '.weight'] = 1 + n(D, std=0.1)
            w[p + ln + '.bias'] = n(D, std=0.1)
        w[p + 'attention.query_key_value.weight'] = n(3 * D, D, std=0.3)
        w[p + 'attention.query_key_value.bias'] = n(3 * D, std=0.1)
        w[p + 'attention.dense.weight'] = n(D, D, std=0.2)
        w[p + 'attention.dense.bias'] = n(D, std=0.1)
        w[p + 'mlp.dense_h_to_4h.weight'] = n(M, D, std=0.3)
        w[p + 'mlp.dense_h_to_4h.bias'] = n(M, std=0.1)
        w[p + 'mlp.dense_4h_to_h.weight'] = n(D, M, std=0.2)
        w[p + 'mlp.dense_4h_to_h.bias'] = n(D, std=0.1)
    return w


def llama_like(model_type, arch, **over):
    cfg = {
        'architectures': [arch], 'model_type': model_type, 'hidden_act': 'silu', 'hidden_size': 32,
        'intermediate_size': 48, 'num_attention_heads': 4, 'num_key_value_heads': 2, 'num_hidden_layers': 2,
        'max_position_embeddings': 64, 'rms_norm_eps': 1e-5, 'rope_theta': 10000.0, 'rope_scaling': None,
        'attention_bias': False, 'attention_dropout': 0.0, 'tie_word_embeddings': True,
        'initializer_range': 0.02, 'torch_dtype': 'float32', 'use_cache': True,
    }
    cfg.update(over)
    return cfg


# name -> (config, weight maker, forward, storage dtype, shards, eos in generation_config)
FIXTURES = {
    # Llama 3.2-style: GQA 4q/2kv, llama3 rope scaling (Llama 3's factors) with original context
    # 32 and rope_theta 100, so head_dim 8's four wavelengths (6.3, 19.9, 62.8, 199) hit all
    # three bands (kept, interpolated, divided); the longer LONG_TEXT runs past position 32.
    'llama3': (llama_like('llama', 'LlamaForCausalLM', rope_theta=100.0, mlp_bias=False, rope_scaling={
        'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,
        'original_max_position_embeddings': 32}), llama_weights, llama_forward, 'F32', 1, ['<|endoftext|>', '<|im_end|>']),
    # SmolLM2/Llama-2-style: untied lm_head, linear rope scaling, no GQA, stored as bf16.
    'llama-linear': (llama_like('llama', 'LlamaForCausalLM', num_key_value_heads=4, tie_word_embeddings=False,
                                torch_dtype='bfloat16', mlp_bias=False, rope_scaling={'type': 'linear', 'factor': 4.0}),
                     llama_weights, llama_forward, 'BF16', 1, '<|endoftext|>'),
    # Mistral: GQA, untied, a 4-token sliding window on every layer, sharded into two files.
    'mistral': (llama_like('mistral', 'MistralForCausalLM', tie_word_embeddings=False, sliding_window=4,
                           head_dim=8, rope_theta=1000000.0), llama_weights, llama_forward, 'F32', 2, '<|endoftext|>'),
    # Qwen2.5-style: q/k/v biases, tied, eos a list.
    'qwen2': (llama_like('qwen2', 'Qwen2ForCausalLM', rms_norm_eps=1e-6, rope_theta=1000000.0, sliding_window=32768,
                         use_sliding_window=False, max_window_layers=2), llama_weights, llama_forward, 'F32', 1,
              ['<|im_end|>', '<|endoftext|>']),
    # Qwen3: q/k RMSNorm per head, head_dim 16 != hidden/heads 8, stored as f16.
    'qwen3': (llama_like('qwen3', 'Qwen3ForCausalLM', head_dim=16, rms_norm_eps=1e-6, rope_theta=1000000.0,
                         torch_dtype='float16', sliding_window=None, use_sliding_window=False, max_window_layers=2),
              llama_weights, llama_forward, 'F16', 1, ['<|im_end|>', '<|endoftext|>']),
    # Pythia: parallel residual, rotary on 4 of 16 head dims, fused per-head qkv, LayerNorm, untied.
    'pythia': ({'architectures': ['GPTNeoXForCausalLM'], 'model_type': 'gpt_neox', 'hidden_act': 'gelu',
                'hidden_size': 32, 'intermediate_size': 128, 'num_attention_heads': 2, 'num_hidden_layers': 2,
                'max_position_embeddings': 64, 'layer_norm_eps': 1e-5, 'rotary_pct': 0.25, 'rotary_emb_base': 10000,
                'use_parallel_residual': True, 'tie_word_embeddings': False, 'attention_bias': True,
                'attention_dropout': 0.0, 'hidden_dropout': 0.0, 'initializer_range': 0.02, 'torch_dtype': 'float32',
                'use_cache': True}, neox_weights, neox_forward, 'F32', 1, '<|endoftext|>'),
    # Gemma 2: head_dim 16 != hidden/heads, query_pre_attn_scalar 24 != head_dim, local-global
    # alternation from the pattern (no layer_types), a 4-token window, both soft-caps low enough to bite.
    'gemma2': ({'architectures': ['Gemma2ForCausalLM'], 'model_type': 'gemma2', 'hidden_act': 'gelu_pytorch_tanh',
                'hidden_activation': 'gelu_pytorch_tanh', 'hidden_size': 32, 'intermediate_size': 48, 'head_dim': 16,
                'num_attention_heads': 4, 'num_key_value_heads': 2, 'num_hidden_layers': 3, 'max_position_embeddings': 64,
                'rms_norm_eps': 1e-6, 'rope_theta': 10000.0, 'query_pre_attn_scalar': 24, 'sliding_window': 4,
                'attn_logit_softcapping': 5.0, 'final_logit_softcapping': 1.0, 'attention_bias': False,
                'attention_dropout': 0.0, 'tie_word_embeddings': True, 'initializer_range': 0.02,
                'torch_dtype': 'float32', 'use_cache': True, 'cache_implementation': 'hybrid'},
               gemma_weights, gemma_forward, 'F32', 1, ['<|endoftext|>', '<|im_end|>']),
    # Gemma 3 (text): hidden 48 so sqrt(48) rounds visibly in bf16 (6.9282 -> 6.9375), stored as bf16,
    # q/k norm, layer_types (with the equivalent sliding_window_pattern 3), local RoPE base 100, global
    # base 1000 with linear scaling 4, no soft-caps.
    'gemma3': ({'architectures': ['Gemma3ForCausalLM'], 'model_type': 'gemma3_text', 'hidden_activation': 'gelu_pytorch_tanh',
                'hidden_size': 48, 'intermediate_size': 64, 'head_dim': 16, 'num_attention_heads': 4,
                'num_key_value_heads': 1, 'num_hidden_layers': 4, 'max_position_embeddings': 64, 'rms_norm_eps': 1e-6,
                'rope_theta': 1000.0, 'rope_scaling': {'rope_type': 'linear', 'factor': 4.0}, 'rope_local_base_freq': 100.0,
                'query_pre_attn_scalar': 16, 'sliding_window': 4, 'sliding_window_pattern': 3,
                'layer_types': ['sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention'],
                'attn_logit_softcapping': None, 'final_logit_softcapping': None, 'attention_bias': False,
                'attention_dropout': 0.0, 'tie_word_embeddings': True, 'initializer_range': 0.02,
                'torch_dtype': 'bfloat16', 'use_cache': True},
               gemma_weights, gemma_forward, 'BF16', 1, ['<|endoftext|>', '<|im_end|>']),
    # OLMo 2: no input norms, post-attention and post-feedforward RMSNorms, q/k norm over the whole
    # projections (GQA: k_norm is 2 heads wide), untied.
    'olmo2': (llama_like('olmo2', 'Olmo2ForCausalLM', tie_word_embeddings=False, rms_norm_eps=1e-6, rope_theta=10000.0),
              olmo2_weights, olmo2_forward, 'F32', 1, '<|endoftext|>'),
}

# Each fixture's seed offset, fixed so that adding a fixture leaves the others' bytes alone.
SEED_OFFSET = {'llama-linear': 0, 'llama3': 1, 'mistral': 2, 'pythia': 3, 'qwen2': 4, 'qwen3': 5, 'gemma2': 6, 'gemma3': 107, 'olmo2': 8}


# ---------------------------------------------------------------- writing

def stored(t, dtype):
    """The tensor as stored (rounded to f16/bf16 where the fixture says so) and its bytes."""
    if dtype == 'F32':
        return t.float(), t.float().numpy().astype('<f4').tobytes()
    if dtype == 'F16':
        h = t.half()
        return h.float(), h.numpy().astype('<f2').tobytes()
    b = t.bfloat16()
    return b.float(), b.view(torch.int16).numpy().astype('<i2').tobytes()


def write_safetensors(path, tensors, dtype):
    """Reference writer layout: header as compact JSON space-padded to 8 bytes, then data
    in name order (one dtype per file)."""
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(tensors):
        data = tensors[name][1]
        header[name] = {'dtype': dtype, 'shape': list(tensors[name][0].shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
    return offset


def write_json(path, obj, indent=2):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=indent)
        f.write('\n')


def rounded(t):
    return [float(f'{v:.7g}') for v in t.flatten().tolist()]


def render_chat(bos):
    """What CHAT_TEMPLATE renders for CHAT_MESSAGES with add_generation_prompt (by hand:
    jinja2 is not installed here, and the template is plain concatenation)."""
    body = ''.join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in CHAT_MESSAGES)
    return bos + body + '<|im_start|>assistant\n'


def write_fixture(name, spec, tok, specials, vocab_size, encode):
    cfg, make, forward, dtype, shards, eos = spec
    cfg = dict(cfg, vocab_size=vocab_size, bos_token_id=specials['<|endoftext|>'],
               eos_token_id=[specials[e] for e in eos] if isinstance(eos, list) else specials[eos])
    g = torch.Generator().manual_seed(SEED + SEED_OFFSET[name])
    raw = make(cfg, g)
    tensors = {k: stored(v, dtype) for k, v in raw.items()}
    w = {k: v[0] for k, v in tensors.items()}
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    if shards == 1:
        write_safetensors(os.path.join(out, 'model.safetensors'), tensors, dtype)
    else:
        names, weight_map, total = sorted(tensors), {}, 0
        for s in range(shards):
            part = names[s::shards]
            file = f'model-{s + 1:05d}-of-{shards:05d}.safetensors'
            total += write_safetensors(os.path.join(out, file), {k: tensors[k] for k in part}, dtype)
            weight_map.update({k: file for k in part})
        write_json(os.path.join(out, 'model.safetensors.index.json'),
                   {'metadata': {'total_size': total}, 'weight_map': dict(sorted(weight_map.items()))})
    write_json(os.path.join(out, 'config.json'), cfg)
    write_json(os.path.join(out, 'tokenizer.json'), tok)
    eos_ids = cfg['eos_token_id']
    write_json(os.path.join(out, 'generation_config.json'),
               {'bos_token_id': cfg['bos_token_id'], 'eos_token_id': eos_ids, 'do_sample': False})
    eos_first = eos[0] if isinstance(eos, list) else eos
    write_json(os.path.join(out, 'tokenizer_config.json'), {
        'add_bos_token': False, 'add_eos_token': False, 'bos_token': '<|endoftext|>', 'eos_token': eos_first,
        'pad_token': '<|endoftext|>', 'unk_token': None, 'model_max_length': cfg['max_position_embeddings'],
        'tokenizer_class': 'PreTrainedTokenizerFast', 'clean_up_tokenization_spaces': False,
        'chat_template': CHAT_TEMPLATE,
        'added_tokens_decoder': {str(i): {'content': s, 'lstrip': False, 'normalized': False, 'rstrip': False,
                                          'single_word': False, 'special': True} for s, i in specials.items()},
    })
    text = TEXT_OF.get(name, TEXT)
    text_ids = encode(text)
    other = [specials['<|im_start|>'], 0, 255, vocab_size - 1] + text_ids[: len(text_ids) - 4]
    ids = torch.tensor([text_ids, other])
    with torch.no_grad():
        logits = forward(cfg, w, ids)  # [B, T, V]
        seq, greedy, gaps = ids[:1], [], []
        for _ in range(NEW_TOKENS):
            last = forward(cfg, w, seq)[0, -1]
            top = last.topk(2).values
            gaps.append((top[0] - top[1]).item())
            nxt = int(last.argmax())
            greedy.append(nxt)
            seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
    write_json(os.path.join(out, 'golden.json'), {
        'note': f'Written by scripts/make-family-fixtures.py (PyTorch {torch.__version__}, float32 forward of the stored weights).',
        'text': text, 'input_ids': ids.tolist(),
        'logits': [[rounded(logits[b, t]) for t in range(ids.shape[1])] for b in range(ids.shape[0])],
        'greedy_prompt_row': 0, 'greedy_new_ids': greedy, 'greedy_min_top2_gap': round(min(gaps), 6),
        'chat_messages': CHAT_MESSAGES, 'chat_rendered': render_chat('<|endoftext|>'),
    }, indent=None)
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f'{name}: {sum(v.numel() for v in w.values())} params, T={ids.shape[1]}, logits [{logits.min():.2f}, {logits.max():.2f}], '
          f'greedy {greedy}, min top-2 gap {min(gaps):.4f}, {size / 1024:.0f} KiB')


def main():
    torch.manual_seed(SEED)
    tok, specials, vocab_size, encode = make_tokenizer()
    for name in sorted(FIXTURES):
        write_fixture(name, FIXTURES[name], tok, specials, vocab_size, encode)


if __name__ == '__main__':
    main()
