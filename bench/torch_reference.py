"""PyTorch reference for `npm run bench`: trains the same GPT-2-style model the same way
(pre-LayerNorm, learned positions, tanh-GELU MLP, tied embeddings, mean cross-entropy,
AdamW) on random byte tokens, and prints one JSON line with tokens/s.

Usage: python3 bench/torch_reference.py '{"vocabSize":256,...}'  (config as JSON; all
fields optional). Threads default to 2, matching the bonsai bench machine.

Mode "generate" (bench row (b)): greedy decoding of 8 prompts x 16 tokens with a KV cache
written here and without one, on the GPT-2 shape above or ("shape": "llama") a Llama block
written from its published definition (RMSNorm, RoPE, grouped-query attention, SwiGLU,
tied head): e.g. the SmolLM2-135M shape. "uncachedWindows": [T, ...] times one uncached
step at each window length instead of a whole uncached run (for shapes too slow to run).

Mode "lora" (bench row (a)): LoRA training on a SmolLM2-135M-shaped Llama, lora_bench
below; bench/lora-row.ts runs it.
"""
import json
import os
import math
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULTS = dict(vocabSize=256, dModel=128, nLayers=2, nHeads=4, dMlp=512, nCtx=64,
                batchSize=16, warmup=10, steps=40, lr=1e-3, weightDecay=0.01, seed=0, threads=2)


class Block(nn.Module):
    def __init__(self, d, h, m):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d)  # W_Q, W_K, W_V side by side (same FLOPs as three)
        self.o = nn.Linear(d, d)
        self.fc_in, self.fc_out = nn.Linear(d, m), nn.Linear(m, d)

    def forward(self, x, mask):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
        heads = lambda t: t.view(B, T, self.h, D // self.h).transpose(1, 2)  # [B, H, T, dh]
        q, k, v = heads(q), heads(k), heads(v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(D // self.h) + mask[:T, :T]
        z = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.o(z)
        return x + self.fc_out(F.gelu(self.fc_in(self.ln2(x)), approximate='tanh'))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c['dModel']
        self.W_E = nn.Parameter(torch.randn(c['vocabSize'], d) * 0.02)
        self.W_pos = nn.Parameter(torch.randn(c['nCtx'], d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, c['nHeads'], c['dMlp']) for _ in range(c['nLayers']))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        n = c['nCtx']
        self.register_buffer('mask', torch.triu(torch.full((n, n), -1e9), diagonal=1))

    def forward(self, ids):
        T = ids.shape[1]
        x = self.W_E[ids] + self.W_pos[:T]
        for b in self.blocks:
            x = b(x, self.mask)
        return self.ln_f(x) @ self.W_E.t()  # tied unembedding


def block_step(b, x, kv):
    """One block on new tokens x [B, Tq, D] against its key/value cache kv (a list, extended in place)."""
    B, T, D = x.shape
    q, k, v = b.qkv(b.ln1(x)).split(D, dim=-1)
    heads = lambda t: t.view(B, T, b.h, D // b.h).transpose(1, 2)  # [B, H, Tq, dh]
    q, k, v = heads(q), heads(k), heads(v)
    if kv:
        k, v = torch.cat([kv[0], k], 2), torch.cat([kv[1], v], 2)
    kv[:] = [k, v]
    S = k.shape[2]
    mask = torch.triu(torch.full((T, S), -1e9), diagonal=S - T + 1)  # causal over the new tokens
    z = ((q @ k.transpose(-2, -1) / math.sqrt(D // b.h) + mask).softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
    x = x + b.o(z)
    return x + b.fc_out(F.gelu(b.fc_in(b.ln2(x)), approximate='tanh'))


class LlamaBlock(nn.Module):
    """A Llama decoder layer: x + attn(rms(x)), then h + mlp(rms(h)); grouped-query attention."""

    def __init__(self, d, h, kv, m, eps):
        super().__init__()
        self.h, self.kv, self.dh, self.eps = h, kv, d // h, eps
        self.ln1, self.ln2 = nn.Parameter(torch.ones(d)), nn.Parameter(torch.ones(d))
        self.q = nn.Linear(d, h * self.dh, bias=False)
        self.k = nn.Linear(d, kv * self.dh, bias=False)
        self.v = nn.Linear(d, kv * self.dh, bias=False)
        self.o = nn.Linear(h * self.dh, d, bias=False)
        self.gate, self.up, self.down = nn.Linear(d, m, bias=False), nn.Linear(d, m, bias=False), nn.Linear(m, d, bias=False)

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def forward(self, x, cos, sin, kv, mask):
        """x [B, T, D] at the positions cos/sin [T, dh] describe; kv: this layer's cache (a list,
        extended in place; [] for none); mask [T, S] additive over every cached slot."""
        B, T, D = x.shape
        hx = self.rms(x, self.ln1)
        q = self.q(hx).view(B, T, self.h, self.dh).transpose(1, 2)  # [B, H, T, dh]
        k = self.k(hx).view(B, T, self.kv, self.dh).transpose(1, 2)  # [B, KV, T, dh]
        v = self.v(hx).view(B, T, self.kv, self.dh).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if kv:
            k, v = torch.cat([kv[0], k], 2), torch.cat([kv[1], v], 2)
        kv[:] = [k, v]
        g = self.h // self.kv  # query heads per key/value head: view q as [B, KV, g·T, dh], no repeat
        qg = q.reshape(B, self.kv, g * T, self.dh)
        scores = (qg @ k.transpose(-2, -1)).view(B, self.kv, g, T, -1) / math.sqrt(self.dh) + mask
        z = (scores.softmax(-1).view(B, self.kv, g * T, -1) @ v).view(B, self.h, T, self.dh)
        x = x + self.o(z.transpose(1, 2).reshape(B, T, D))
        hx = self.rms(x, self.ln2)
        return x + self.down(F.silu(self.gate(hx)) * self.up(hx))


def rope(x, cos, sin):
    """x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁] over the two halves of each head."""
    half = x.shape[-1] // 2
    return x * cos + torch.cat([-x[..., half:], x[..., :half]], -1) * sin


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.eps = c['dModel'], c.get('eps', 1e-5)
        self.W_E = nn.Parameter(torch.randn(c['vocabSize'], d) * 0.02)
        self.blocks = nn.ModuleList(LlamaBlock(d, c['nHeads'], c['nKvHeads'], c['dMlp'], self.eps) for _ in range(c['nLayers']))
        for b in self.blocks:
            for lin in [b.q, b.k, b.v, b.o, b.gate, b.up, b.down]:
                nn.init.normal_(lin.weight, std=0.02)
        self.ln_f = nn.Parameter(torch.ones(d))
        dh = d // c['nHeads']
        inv = 1.0 / (c.get('ropeTheta', 10000.0) ** (torch.arange(0, dh, 2, dtype=torch.float32) / dh))
        ang = torch.outer(torch.arange(c['nCtx'], dtype=torch.float32), inv)
        emb = torch.cat([ang, ang], -1)
        self.register_buffer('cos', emb.cos())
        self.register_buffer('sin', emb.sin())

    def hidden(self, ids, caches=None, pos=0):
        """Final-norm states [B, T, D] of ids at positions pos…pos+T−1, against per-layer caches (or none)."""
        T = ids.shape[1]
        S = pos + T
        mask = torch.triu(torch.full((T, S), -1e9), diagonal=pos + 1)  # causal over the new tokens
        cos, sin = self.cos[pos:S], self.sin[pos:S]
        x = self.W_E[ids]
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, caches[i] if caches is not None else [], mask)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.ln_f


def gpt_hidden(model, ids, caches=None, pos=0):
    """The GPT-2 shape's final-norm states, with block_step's cache or without."""
    T = ids.shape[1]
    x = model.W_E[ids] + model.W_pos[pos:pos + T]
    for i, b in enumerate(model.blocks):
        x = block_step(b, x, caches[i]) if caches is not None else b(x, model.mask)
    return model.ln_f(x)


@torch.no_grad()
def generate_bench(c):
    """Row (b): greedy decoding of 8 prompts × 16 tokens, with its own KV cache and without.
    Both paths run the output head on the last position only."""
    torch.set_num_threads(c['threads'])
    torch.manual_seed(c['seed'])
    llama = c.get('shape') == 'llama'
    model = (Llama(c) if llama else GPT(c)).eval()
    hidden = model.hidden if llama else (lambda ids, caches=None, pos=0: gpt_hidden(model, ids, caches, pos))
    n = c.get('newTokens', 128)
    ids0 = torch.randint(0, c['vocabSize'], (8, 16), generator=torch.Generator().manual_seed(0))
    head = lambda h: (h[:, -1:] @ model.W_E.t()).argmax(-1)  # [B, 1], tied head on the last position

    def cached(steps):
        caches = [[] for _ in model.blocks]
        ids, new, pos = ids0, [], 0
        for _ in range(steps):
            T = ids.shape[1]
            ids = head(hidden(ids, caches, pos))
            pos += T
            new.append(ids)
        return torch.cat(new, 1)

    def uncached(steps, ids=ids0):
        for _ in range(steps):
            ids = torch.cat([ids, head(hidden(ids))], 1)
        return ids[:, 16:]

    out = {}
    cached(2)  # warm-up
    t0 = time.perf_counter()
    toks = cached(n)
    out['cachedTokensPerSec'] = 8 * n / (time.perf_counter() - t0)
    windows = c.get('uncachedWindows')
    if windows:  # one uncached step per window length, ms each (the caller integrates)
        uncached(2)
        g = torch.Generator().manual_seed(1)
        ms = []
        for T in windows:
            ids = torch.randint(0, c['vocabSize'], (8, T), generator=g)
            t0 = time.perf_counter()
            uncached(1, ids)
            ms.append((time.perf_counter() - t0) * 1e3)
        out['uncachedStepMs'] = ms
    else:
        uncached(2)
        t0 = time.perf_counter()
        plain = uncached(n)
        out['uncachedTokensPerSec'] = 8 * n / (time.perf_counter() - t0)
        out['identical'] = bool((toks == plain).all())
    print(json.dumps(dict(torch=torch.__version__, threads=torch.get_num_threads(), **out)))


# ---- Row (a): LoRA training on a SmolLM2-135M-shaped Llama (mode "lora") -----------------
# Written from the published Llama definition (transformers' modeling_llama, eager attention):
# RMSNorm, rotary embeddings (rotate_half), grouped-query attention (repeat_kv), SwiGLU MLP,
# tied embeddings; LoRA as PEFT's Linear: base(x) + lora_B(lora_A(x))·alpha/r, lora_A
# kaiming_uniform_(a=√5), lora_B zeros, base frozen, AdamW on the adapters only.

LORA_DEFAULTS = dict(vocabSize=49152, dModel=576, nLayers=30, nHeads=9, nKvHeads=3, dMlp=1536, nCtx=256,
                     ropeTheta=100000.0, r=16, alpha=32, batchSize=2, warmup=1, steps=2, lr=1e-4, seed=0, threads=1)


class LoraLinear(nn.Module):
    """PEFT's LoRA Linear (dropout 0): a frozen bias-free base plus B·A scaled by alpha / r."""
    def __init__(self, d_in, d_out, r, alpha):
        super().__init__()
        self.base = nn.Linear(d_in, d_out, bias=False)
        nn.init.normal_(self.base.weight, std=0.02)
        self.base.weight.requires_grad_(False)
        self.lora_A = nn.Linear(d_in, r, bias=False)
        self.lora_B = nn.Linear(r, d_out, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


# Named apart from the generate bench's LlamaBlock above: the two are written separately (this one with
# LoRA linears and PEFT's init), and one name for both would shadow the first.
class LoraLlamaBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, kv, m, r, a = c['dModel'], c['nHeads'], c['nKvHeads'], c['dMlp'], c['r'], c['alpha']
        self.h, self.kv, self.dh = h, kv, d // h
        self.ln1, self.ln2 = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v = LoraLinear(d, h * self.dh, r, a), LoraLinear(d, kv * self.dh, r, a), LoraLinear(d, kv * self.dh, r, a)
        self.o = LoraLinear(h * self.dh, d, r, a)
        self.gate, self.up, self.down = LoraLinear(d, m, r, a), LoraLinear(d, m, r, a), LoraLinear(m, d, r, a)

    def forward(self, x, cos, sin, mask):
        B, T, D = x.shape
        y = self.ln1(x)
        q = self.q(y).view(B, T, self.h, self.dh).transpose(1, 2)   # [B, H, T, dh]
        k = self.k(y).view(B, T, self.kv, self.dh).transpose(1, 2)  # [B, KV, T, dh]
        v = self.v(y).view(B, T, self.kv, self.dh).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.h // self.kv  # repeat_kv: each key/value head serves `rep` query heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.dh) + mask[:T, :T]
        z = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.o(z)
        y = self.ln2(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class LoraLlama(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, dh = c['dModel'], c['dModel'] // c['nHeads']
        self.embed = nn.Parameter(torch.randn(c['vocabSize'], d) * 0.02, requires_grad=False)
        self.blocks = nn.ModuleList(LoraLlamaBlock(c) for _ in range(c['nLayers']))
        self.norm = RMSNorm(d)
        n = c['nCtx']
        inv = 1.0 / (c['ropeTheta'] ** (torch.arange(0, dh, 2).float() / dh))
        ang = torch.outer(torch.arange(n).float(), inv)
        emb = torch.cat((ang, ang), dim=-1)  # [T, dh]
        self.register_buffer('cos', emb.cos())
        self.register_buffer('sin', emb.sin())
        self.register_buffer('mask', torch.triu(torch.full((n, n), float('-inf')), diagonal=1))

    def forward(self, ids):
        T = ids.shape[1]
        x = self.embed[ids]
        for b in self.blocks:
            x = b(x, self.cos[:T], self.sin[:T], self.mask)
        return self.norm(x) @ self.embed.t()  # tied lm_head


def lm_step(model, opt, ids, V):
    """One next-token training step on ids [B, T + 1] (mean cross-entropy); returns the loss."""
    logits = model(ids[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def lora_bench(c):
    """Row (a): median step time, tokens/s and peak memory (max RSS growth) of LoRA training."""
    import resource
    c = dict(LORA_DEFAULTS, **{k: v for k, v in c.items() if k != 'mode'})
    torch.set_num_threads(c['threads'])
    torch.manual_seed(c['seed'])
    B, T, V = c['batchSize'], c['nCtx'], c['vocabSize']
    g = torch.Generator().manual_seed(c['seed'])
    data = torch.randint(0, V, (c['warmup'] + c['steps'], B, T + 1), generator=g)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux; before the model exists
    model = LoraLlama(c)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=c['lr'], weight_decay=0.0)
    times, losses = [], []
    for i in range(c['warmup'] + c['steps']):
        t0 = time.perf_counter()
        losses.append(round(lm_step(model, opt, data[i], V), 4))
        if i >= c['warmup']:
            times.append((time.perf_counter() - t0) * 1e3)
        print(f'torch step {i}: {time.perf_counter() - t0:.1f} s, loss {losses[-1]}', file=sys.stderr)
    med = sorted(times)[len(times) // 2]
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
    print(json.dumps(dict(torch=torch.__version__, threads=torch.get_num_threads(), blas=loaded_blas(),
                          params=sum(p.numel() for p in model.parameters() if not p.requires_grad), trainable=sum(p.numel() for p in trainable),
                          stepMsMedian=round(med), tokensPerSec=round(B * T * 1e3 / med, 1),
                          peakRssGrowthMB=round(peak / 1e6, 1), losses=losses)))


def main():
    c = dict(DEFAULTS, **(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
    if c.get('mode') == 'generate':
        return generate_bench(c)
    if c.get('mode') == 'lora':
        return lora_bench(json.loads(sys.argv[1]))
    torch.set_num_threads(c['threads'])
    torch.manual_seed(c['seed'])
    model = GPT(c)
    opt = torch.optim.AdamW(model.parameters(), lr=c['lr'], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=c['weightDecay'])
    B, T, V = c['batchSize'], c['nCtx'], c['vocabSize']
    g = torch.Generator().manual_seed(c['seed'])
    data = torch.randint(0, V, (c['warmup'] + c['steps'], B, T + 1), generator=g)

    def step(i):
        return lm_step(model, opt, data[i], V)

    import resource
    for i in range(c['warmup']):
        step(i)
    times, cpu = [], []
    for i in range(c['warmup'], c['warmup'] + c['steps']):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step(i)
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    trimmed = trimmed_mean(times)  # as the bonsai side reports (bench/config.ts trimmedMean)
    print(json.dumps(dict(torch=torch.__version__, threads=torch.get_num_threads(),
                          blas=loaded_blas(), stepMs=times, stepMsMedian=sorted(times)[len(times) // 2],
                          stepMsMin=min(times), stepMsTrimmed=trimmed, cpuMsMedian=sorted(cpu)[len(cpu) // 2],
                          rssMax=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                          tokensPerSec=B * T * 1e3 / trimmed, loss=loss)))


def trimmed_mean(xs, cut=0.2):
    """Mean of the middle of xs, the fastest and slowest `cut` fraction dropped (bench/config.ts trimmedMean)."""
    s = sorted(xs)
    k = int(len(s) * cut)
    mid = s[k:len(s) - k]
    return sum(mid) / len(mid)


def loaded_blas():
    """The BLAS this process really multiplies with. Debian switches libblas.so.3 at run
    time (alternatives, or LD_LIBRARY_PATH), so torch's build info cannot tell; and
    libopenblas may be mapped anyway through LAPACK. So: where the mapped libblas.so.3 lives."""
    try:
        with open('/proc/self/maps') as f:
            paths = {line.split()[-1] for line in f if '/libblas.so' in line}
    except OSError:
        paths = set()
    for path in paths:
        real = os.path.realpath(path)
        if 'openblas' in real:
            return 'OpenBLAS'
        if '/blas/' in real:
            return 'reference BLAS'
    build = re.search(r'BLAS_INFO=(\w+)', torch.__config__.show())
    return build.group(1) if build else 'unknown'


if __name__ == '__main__':
    main()
