"""PyTorch re-implementation of the LightGlm model exactly per docs/ENGINE.md.

Used only to write golden files (gen_golden.py) and to benchmark PyTorch (bench_pytorch.py);
never a runtime dependency. Weight names are the contract's (Hugging Face LLaMA names).
Runs with Debian's /usr/bin/python3 and python3-torch 1.13.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    """The contract's config fields, with the contract's defaults."""

    def __init__(self, d):
        self.raw = dict(d)
        self.model_type = d.get("model_type", "lightglm")
        self.vocab_size = int(d["vocab_size"])
        self.hidden_size = int(d["hidden_size"])
        self.num_hidden_layers = int(d["num_hidden_layers"])
        self.num_attention_heads = int(d["num_attention_heads"])
        self.num_key_value_heads = int(d.get("num_key_value_heads", self.num_attention_heads))
        self.head_dim = int(d.get("head_dim") or self.hidden_size // self.num_attention_heads)
        self.intermediate_size = int(d["intermediate_size"])
        self.rms_norm_eps = float(d.get("rms_norm_eps", 1e-5))
        self.rope_theta = float(d.get("rope_theta", 10000.0))
        self.partial_rotary_factor = float(d.get("partial_rotary_factor", 1.0))
        self.rope_interleaved = bool(d.get("rope_interleaved", False))
        self.attention_bias = bool(d.get("attention_bias", False))
        self.tie_word_embeddings = bool(d.get("tie_word_embeddings", False))
        self.prefix_lm = bool(d.get("prefix_lm", False))
        assert self.num_attention_heads % self.num_key_value_heads == 0, "H % KV != 0"
        # R = D * factor, rounded down to even: the first R dims of each head are rotated.
        r = int(self.head_dim * self.partial_rotary_factor)
        self.rotary_dim = r - (r % 2)

    @staticmethod
    def load(path):
        with open(path) as f:
            return Config(json.load(f))


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * w."""

    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_cos_sin(cfg, positions, dtype):
    """cos/sin of angle t * inv_freq_j, inv_freq_j = theta^(-2j/R), j = 0..R/2-1.  positions: (T,) or (B, T)."""
    r = cfg.rotary_dim
    j = torch.arange(0, r // 2, dtype=torch.float64)
    inv_freq = cfg.rope_theta ** (-2.0 * j / r)
    ang = positions.to(torch.float64).unsqueeze(-1) * inv_freq  # (..., T, R/2)
    return ang.cos().to(dtype), ang.sin().to(dtype)


def apply_rotary(cfg, x, cos, sin):
    """x: (B, h, T, D). Rotates pair (a, b) -> (a cos - b sin, a sin + b cos) on the first R dims.
    Pairs are (2j, 2j+1) if rope_interleaved (ChatGLM2) else (j, j + R/2) (LLaMA rotate_half)."""
    r = cfg.rotary_dim
    if r == 0:
        return x
    rot, rest = x[..., :r], x[..., r:]
    if cos.dim() == 2:  # (T, R/2) -> broadcast over B, h
        cos, sin = cos[None, None], sin[None, None]
    else:  # (B, T, R/2)
        cos, sin = cos[:, None], sin[:, None]
    if cfg.rope_interleaved:
        a, b = rot[..., 0::2], rot[..., 1::2]
        ra, rb = a * cos - b * sin, a * sin + b * cos
        rot = torch.stack((ra, rb), dim=-1).flatten(-2)
    else:
        a, b = rot[..., : r // 2], rot[..., r // 2:]
        rot = torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)
    return torch.cat((rot, rest), dim=-1)


def build_mask(t_q, t_k, offset, prefix_lengths, device):
    """Boolean (B or 1, 1, Tq, Tk) mask: key j visible to query i (absolute position offset+i)
    iff j <= offset+i, or (prefix mask) j < P_b."""
    qi = torch.arange(t_q, device=device)[:, None] + offset
    kj = torch.arange(t_k, device=device)[None, :]
    m = kj <= qi  # (Tq, Tk)
    if prefix_lengths is None:
        return m[None, None]
    p = prefix_lengths.to(device).view(-1, 1, 1)
    return (m[None] | (kj[None] < p))[:, None]


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c, h, kv, d = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        b = cfg.attention_bias
        self.q_proj = nn.Linear(c, h * d, bias=b)
        self.k_proj = nn.Linear(c, kv * d, bias=b)
        self.v_proj = nn.Linear(c, kv * d, bias=b)
        self.o_proj = nn.Linear(h * d, c, bias=False)

    def forward(self, x, cos, sin, prefix_lengths, cache=None, offset=0):
        cfg = self.cfg
        bsz, t, _ = x.shape
        h, kv, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        q = self.q_proj(x).view(bsz, t, h, d).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(bsz, t, kv, d).transpose(1, 2)  # (B, KV, T, D)
        v = self.v_proj(x).view(bsz, t, kv, d).transpose(1, 2)
        q, k = apply_rotary(cfg, q, cos, sin), apply_rotary(cfg, k, cos, sin)
        if cache is not None:  # KV cache: append, attend over all cached keys
            if "k" in cache:
                k = torch.cat((cache["k"], k), dim=2)
                v = torch.cat((cache["v"], v), dim=2)
            cache["k"], cache["v"] = k, v
        g = h // kv  # query head h uses KV head h // g
        k = k.repeat_interleave(g, dim=1)
        v = v.repeat_interleave(g, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)  # (B, H, T, Tk)
        mask = build_mask(t, k.shape[2], offset, prefix_lengths, x.device)
        scores = scores.masked_fill(~mask, float("-inf"))
        y = torch.matmul(torch.softmax(scores, dim=-1), v)  # (B, H, T, D)
        return self.o_proj(y.transpose(1, 2).reshape(bsz, t, h * d))


class Mlp(nn.Module):
    """down_proj(silu(gate_proj(x)) * up_proj(x))."""

    def __init__(self, cfg):
        super().__init__()
        c, f = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(c, f, bias=False)
        self.up_proj = nn.Linear(c, f, bias=False)
        self.down_proj = nn.Linear(f, c, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = Mlp(cfg)

    def forward(self, x, cos, sin, prefix_lengths, cache=None, offset=0):
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, prefix_lengths, cache, offset)
        return h + self.mlp(self.post_attention_layernorm(h))


class Inner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class LightGlmRef(nn.Module):
    """The whole model; state_dict() names are exactly the contract's tensor names."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = Inner(cfg)
        if not cfg.tie_word_embeddings:
            self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def head_weight(self):
        return self.model.embed_tokens.weight if self.cfg.tie_word_embeddings else self.lm_head.weight

    def forward(self, input_ids, prefix_lengths=None, caches=None, offset=0):
        """input_ids (B, T) -> logits (B, T, V). Positions offset..offset+T-1.
        prefix_lengths (B,) selects the GLM prefix mask; None = causal.
        caches: list of dicts (one per layer) for incremental decoding, or None."""
        _, t = input_ids.shape
        x = self.model.embed_tokens(input_ids)
        pos = torch.arange(offset, offset + t, device=input_ids.device)
        cos, sin = rotary_cos_sin(self.cfg, pos, x.dtype)
        for i, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, prefix_lengths, None if caches is None else caches[i], offset)
        return F.linear(self.model.norm(x), self.head_weight())

    @staticmethod
    def loss(logits, targets):
        """Mean cross-entropy over positions whose target != -1."""
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)

    @torch.no_grad()
    def greedy(self, prompt, n_new, use_prefix_mask):
        """Greedy decoding of one prompt (list of ids) with a KV cache; returns the n_new new ids
        and, per step, the margin between the best and second-best logit."""
        ids = torch.tensor([prompt], dtype=torch.long)
        p = torch.tensor([len(prompt)]) if use_prefix_mask else None
        caches = [dict() for _ in range(self.cfg.num_hidden_layers)]
        logits = self.forward(ids, p, caches, 0)[:, -1]
        out, margins, pos = [], [], len(prompt)
        for _ in range(n_new):
            top = torch.topk(logits[0], 2)
            margins.append(float(top.values[0] - top.values[1]))
            nxt = int(top.indices[0])
            out.append(nxt)
            logits = self.forward(torch.tensor([[nxt]]), p, caches, pos)[:, -1]
            pos += 1
        return out, margins


# ---- safetensors, written by hand (no safetensors module on Debian) ----

_DTYPES = {torch.float32: ("F32", "<f4"), torch.int32: ("I32", "<i4"), torch.int64: ("I64", "<i8"),
           torch.float64: ("F64", "<f8")}


def save_safetensors(path, tensors, metadata=None):
    """Writes the safetensors format: u64 LE header length N, N bytes of JSON header
    {name: {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the data block),
    then the raw little-endian tensor bytes in header order. Names sorted for reproducibility."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        code, np_dtype = _DTYPES[t.dtype]
        raw = t.numpy().astype(np_dtype, copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # pad so the data block is 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Reads what save_safetensors writes (F32/F64/I32/I64)."""
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    codes = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=codes[h["dtype"]]).reshape(h["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out
