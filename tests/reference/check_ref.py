"""Checks lightglm_ref.py against independent, naive formulations of docs/ENGINE.md before any
golden file is written (regen.sh runs it first): rotary as complex multiplication, attention as
explicit loops over (b, h, i, j) with the mask rule, loss by hand, gradients by finite differences."""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_golden import CONFIGS, init_weights, make_batch  # noqa: E402
from lightglm_ref import Config, LightGlmRef, apply_rotary, rotary_cos_sin  # noqa: E402


def check_rotary(cfg):
    t, d, r = 5, cfg.head_dim, cfg.rotary_dim
    x = torch.randn(1, 1, t, d, dtype=torch.float64)
    cos, sin = rotary_cos_sin(cfg, torch.arange(t), torch.float64)
    got = apply_rotary(cfg, x, cos, sin)
    want = x.clone()
    for p in range(t):
        for j in range(r // 2):
            a, b = (2 * j, 2 * j + 1) if cfg.rope_interleaved else (j, j + r // 2)
            z = complex(x[0, 0, p, a], x[0, 0, p, b]) * complex(math.cos(p * cfg.rope_theta ** (-2 * j / r)),
                                                                math.sin(p * cfg.rope_theta ** (-2 * j / r)))
            want[0, 0, p, a], want[0, 0, p, b] = z.real, z.imag
    assert torch.allclose(got, want, atol=1e-12), "rotary != complex rotation"


def naive_forward(model, cfg, ids, prefix):
    """Whole model with explicit loops for attention; everything else from the formulas."""
    def rms(x, w):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + cfg.rms_norm_eps) * w
    bsz, t = ids.shape
    h, kv, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    cos, sin = rotary_cos_sin(cfg, torch.arange(t), torch.float64)
    x = model.model.embed_tokens.weight[ids]
    for layer in model.model.layers:
        a = layer.self_attn
        n1 = rms(x, layer.input_layernorm.weight)
        q = apply_rotary(cfg, a.q_proj(n1).view(bsz, t, h, d).transpose(1, 2), cos, sin)
        k = apply_rotary(cfg, a.k_proj(n1).view(bsz, t, kv, d).transpose(1, 2), cos, sin)
        v = a.v_proj(n1).view(bsz, t, kv, d).transpose(1, 2)
        y = torch.zeros(bsz, h, t, d, dtype=torch.float64)
        for b in range(bsz):
            for hh in range(h):
                g = hh // (h // kv)
                for i in range(t):
                    vis = [j for j in range(t) if j <= i or (prefix is not None and j < int(prefix[b]))]
                    s = torch.stack([q[b, hh, i] @ k[b, g, j] / math.sqrt(d) for j in vis])
                    y[b, hh, i] = (torch.softmax(s, 0)[:, None] * v[b, g, vis]).sum(0)
        x = x + a.o_proj(y.transpose(1, 2).reshape(bsz, t, h * d))
        n2 = rms(x, layer.post_attention_layernorm.weight)
        m = layer.mlp
        g1 = m.gate_proj(n2)
        x = x + m.down_proj(g1 / (1 + torch.exp(-g1)) * m.up_proj(n2))
    return rms(x, model.model.norm.weight) @ model.head_weight().T


def check_model(name, d):
    cfg = Config(d)
    model = LightGlmRef(cfg).double()
    init_weights(model, 7)
    ids, targets, prefix = make_batch(cfg, 8)
    with torch.no_grad():
        logits = model(ids, prefix)
        want = naive_forward(model, cfg, ids, prefix)
    assert torch.allclose(logits, want, atol=1e-10), f"{name}: logits != naive"
    # Loss by hand: mean over targets != -1 of -log softmax.
    lp = torch.log_softmax(logits, -1)
    keep = [(b, i) for b in range(ids.shape[0]) for i in range(ids.shape[1]) if targets[b, i] != -1]
    hand = -sum(lp[b, i, targets[b, i]] for b, i in keep) / len(keep)
    assert abs(float(LightGlmRef.loss(logits, targets)) - float(hand)) < 1e-12, f"{name}: loss != hand"
    # Finite differences on a few entries of every parameter.
    loss = LightGlmRef.loss(model(ids, prefix), targets)
    loss.backward()
    eps = 1e-6
    for pname, p in model.named_parameters():
        for idx in [0, p.numel() // 2, p.numel() - 1]:
            flat = p.data.view(-1)
            old = float(flat[idx])
            with torch.no_grad():
                flat[idx] = old + eps
                lp_ = float(LightGlmRef.loss(model(ids, prefix), targets))
                flat[idx] = old - eps
                lm_ = float(LightGlmRef.loss(model(ids, prefix), targets))
                flat[idx] = old
            fd, an = (lp_ - lm_) / (2 * eps), float(p.grad.view(-1)[idx])
            assert abs(fd - an) <= 1e-6 + 1e-5 * abs(an), f"{name}: {pname}[{idx}] fd {fd} vs autograd {an}"
    print(f"check_ref {name}: rotary, naive attention, loss and finite differences agree")


if __name__ == "__main__":
    torch.manual_seed(0)
    for n, d in CONFIGS.items():
        check_rotary(Config(d))
        check_model(n, d)
