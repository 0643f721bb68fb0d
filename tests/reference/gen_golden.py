"""Writes the golden files that prove LightGlm's parity with PyTorch (tests/LightGlm.Tests/Golden/).

For each tiny config (GLM-style and LLaMA-style) it writes, into Golden/<name>/:
  config.json          the model config (docs/ENGINE.md fields)
  model.safetensors    the fp32 weights, contract names
  golden.safetensors   input_ids, targets (-1 = ignored), prefix_lengths, logits, loss,
                       grad.<every parameter>, adamw_losses.<policy>, prompt<k>, greedy<k>,
                       greedy_margin<k>
  golden.json          how they were made: seeds, optimizer settings, decay policies, and the
                       measured fp32-vs-fp64 disagreement of PyTorch itself (the noise floor)
Everything is computed in float64 from the fp32-rounded weights and stored as fp32.
Run: tests/reference/regen.sh  (or /usr/bin/python3 tests/reference/gen_golden.py OUT_DIR)
"""
import copy
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lightglm_ref import Config, LightGlmRef, save_safetensors  # noqa: E402

CONFIGS = {
    # GLM-style: partial rotary over half the head, interleaved pairs, qkv bias, prefix mask, GQA 4/2.
    "glm": dict(model_type="chatglm", vocab_size=96, hidden_size=32, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, head_dim=8, intermediate_size=40,
                rms_norm_eps=1e-5, rope_theta=10000.0, partial_rotary_factor=0.5,
                rope_interleaved=True, attention_bias=True, tie_word_embeddings=False,
                prefix_lm=True, hidden_dropout=0.0, max_position_embeddings=64,
                bos_token_id=1, eos_token_id=2, pad_token_id=0),
    # LLaMA-style: full rotary, rotate_half pairs, no bias, causal, untied head; multi-query (KV=1)
    # and head_dim 10 != C/H = 8 (as after pruning), theta and eps off their defaults.
    "llama": dict(model_type="llama", vocab_size=96, hidden_size=32, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=1, head_dim=10, intermediate_size=40,
                  rms_norm_eps=1e-6, rope_theta=500000.0, partial_rotary_factor=1.0,
                  rope_interleaved=False, attention_bias=False, tie_word_embeddings=False,
                  prefix_lm=False, hidden_dropout=0.0, max_position_embeddings=64,
                  bos_token_id=1, eos_token_id=2, pad_token_id=0),
}
B, T = 2, 9
PREFIX_LENGTHS = [4, 7]  # GLM only: per-sequence prompt lengths P_b
ADAMW = dict(lr=2e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
ADAMW_STEPS = 10
# Which parameters get weight decay. "all": every parameter. "matrices": parameters with two or
# more dimensions (embeddings, projections, lm_head); norms and biases are not decayed.
DECAY_POLICIES = {"all": lambda name, p: True, "matrices": lambda name, p: p.dim() >= 2}
PROMPTS = [[1, 17, 42, 5, 88, 23], [1, 60, 3]]
N_GREEDY = 20
MIN_MARGIN = 1e-3  # greedy steps must not be near-ties, or fp32 rounding could legitimately flip them


def init_weights(model, seed):
    """Deterministic init with O(1) activations so logits spread (greedy has clear winners) and
    norm weights / biases are not trivially 1 / 0 (a bug that ignores them must show)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g, dtype=torch.float64))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g, dtype=torch.float64))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
            elif name == "lm_head.weight":
                p.copy_(2.0 * torch.randn(p.shape, generator=g, dtype=torch.float64) / p.shape[1] ** 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) / p.shape[1] ** 0.5)
            p.copy_(p.float().double())  # exactly representable in fp32: both sides start equal


def make_batch(cfg, seed):
    g = torch.Generator().manual_seed(seed)
    seq = torch.randint(0, cfg.vocab_size, (B, T + 1), generator=g)
    inputs, targets = seq[:, :T].clone(), seq[:, 1:].clone()
    prefix = None
    if cfg.prefix_lm:
        prefix = torch.tensor(PREFIX_LENGTHS)
        for b, p in enumerate(PREFIX_LENGTHS):
            targets[b, : p - 1] = -1  # no loss inside the prompt (it predicts prompt tokens)
    else:
        targets[1, -2:] = -1  # padding at the end of the second sequence
        targets[0, 3] = -1
    return inputs, targets, prefix


def forward_backward(model, inputs, targets, prefix):
    model.zero_grad(set_to_none=True)
    logits = model(inputs, prefix)
    loss = LightGlmRef.loss(logits, targets)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return logits.detach(), loss.detach(), grads


def adamw_losses(model, inputs, targets, prefix, policy):
    """losses[k] = loss at the weights after k AdamW updates, k = 0..9 (as llm.c's test_gpt2)."""
    model = copy.deepcopy(model)
    decay = DECAY_POLICIES[policy]
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if decay(n, p)], "weight_decay": ADAMW["weight_decay"]},
              {"params": [p for n, p in named if not decay(n, p)], "weight_decay": 0.0}]
    groups = [gr for gr in groups if gr["params"]]
    opt = torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    out = []
    for _ in range(ADAMW_STEPS):
        opt.zero_grad(set_to_none=True)
        loss = LightGlmRef.loss(model(inputs, prefix), targets)
        loss.backward()
        opt.step()
        out.append(float(loss))
    return out


def rel_err(a, b):
    """max|a - b| / max|b|: the tolerance measure the C# tests use."""
    return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30))


def generate(name, d, out_dir, seed):
    cfg = Config(d)
    torch.manual_seed(seed)
    model = LightGlmRef(cfg).double()
    init_weights(model, seed)
    inputs, targets, prefix = make_batch(cfg, seed + 1)

    logits, loss, grads = forward_backward(model, inputs, targets, prefix)
    # The same in fp32: how far PyTorch's own fp32 is from the fp64 truth (the noise floor).
    m32 = copy.deepcopy(model).float()
    l32, loss32, g32 = forward_backward(m32, inputs, targets, prefix)
    noise = {"logits": rel_err(l32, logits), "loss": rel_err(loss32, loss),
             "grads_max": max(rel_err(g32[n], grads[n]) for n in grads)}

    losses = {pol: adamw_losses(model, inputs, targets, prefix, pol) for pol in DECAY_POLICIES}
    losses32 = {pol: adamw_losses(m32, inputs, targets, prefix, pol) for pol in DECAY_POLICIES}
    noise["adamw_losses_max"] = max(abs(a - b) / abs(b) for pol in losses for a, b in zip(losses32[pol], losses[pol]))

    tensors = {"input_ids": inputs.int(), "targets": targets.int(), "logits": logits.float(),
               "loss": loss.reshape(1).float()}
    if prefix is not None:
        tensors["prefix_lengths"] = prefix.int()
    for n, gr in grads.items():
        tensors["grad." + n] = gr.float()
    for pol, ls in losses.items():
        tensors["adamw_losses." + pol] = torch.tensor(ls, dtype=torch.float32)

    greedy_meta = []
    for k, prompt in enumerate(PROMPTS):
        toks, margins = model.greedy(prompt, N_GREEDY, cfg.prefix_lm)
        toks32, _ = m32.greedy(prompt, N_GREEDY, cfg.prefix_lm)
        # Self-check: the KV-cache path equals recomputing the whole sequence each step.
        full = list(prompt)
        with torch.no_grad():
            for _ in range(N_GREEDY):
                p = torch.tensor([len(prompt)]) if cfg.prefix_lm else None
                full.append(int(model(torch.tensor([full]), p)[0, -1].argmax()))
        assert full[len(prompt):] == toks, f"{name}: KV-cache greedy != full recompute"
        assert toks32 == toks, f"{name}: fp32 greedy differs from fp64 greedy"
        assert min(margins) > MIN_MARGIN, f"{name}: greedy near-tie (margin {min(margins)}); change seed"
        tensors[f"prompt{k}"] = torch.tensor(prompt, dtype=torch.int32)
        tensors[f"greedy{k}"] = torch.tensor(toks, dtype=torch.int32)
        tensors[f"greedy_margin{k}"] = torch.tensor(margins, dtype=torch.float32)
        greedy_meta.append({"prompt": prompt, "tokens": toks, "min_margin": min(margins),
                            "prefix_mask": cfg.prefix_lm})

    d_out = os.path.join(out_dir, name)
    os.makedirs(d_out, exist_ok=True)
    with open(os.path.join(d_out, "config.json"), "w") as f:
        json.dump(d, f, indent=2)
        f.write("\n")
    save_safetensors(os.path.join(d_out, "model.safetensors"),
                     {n: p.float() for n, p in model.state_dict().items()})
    save_safetensors(os.path.join(d_out, "golden.safetensors"), tensors)
    meta = {
        "made_by": "tests/reference/gen_golden.py (regenerate: tests/reference/regen.sh)",
        "torch": torch.__version__, "seed": seed, "batch": B, "seq": T,
        "prefix_lengths": PREFIX_LENGTHS if prefix is not None else None,
        "loss": float(loss),
        "adamw": {"lr": ADAMW["lr"], "beta1": ADAMW["betas"][0], "beta2": ADAMW["betas"][1],
                  "eps": ADAMW["eps"], "weight_decay": ADAMW["weight_decay"], "steps": ADAMW_STEPS,
                  "policies": {"all": "every parameter decayed",
                               "matrices": "parameters with >= 2 dims decayed; norms and biases not"},
                  "losses": losses,
                  "meaning": "losses[k] = loss at the weights after k updates; no clipping, constant lr"},
        "greedy": greedy_meta,
        "torch_fp32_vs_fp64_rel_err": noise,
    }
    with open(os.path.join(d_out, "golden.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{name}: loss {float(loss):.6f}, adamw(all) {losses['all'][0]:.4f} -> {losses['all'][-1]:.4f}, "
          f"fp32 noise {noise}")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "LightGlm.Tests", "Golden")
    torch.set_num_threads(1)  # deterministic reductions
    for i, (name, d) in enumerate(CONFIGS.items()):
        generate(name, d, out_dir, seed=1234 + 100 * i)


if __name__ == "__main__":
    main()
