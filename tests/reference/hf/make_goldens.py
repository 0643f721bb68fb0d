"""Builds one tiny random model per Hugging Face architecture in that architecture's own layout and
names, saves it as transformers' save_pretrained would (config.json, sharded safetensors + index, in the
checkpoint dtype), reloads it from disk, and writes golden.json: logits (float32 compute, as
`model.float()`) for a fixed prompt and 10 greedy tokens. Usage: make_goldens.py OUT_DIR"""
import json
import os
import shutil
import sys

import torch

import chatglm
import llama
from safetensors_io import load_pretrained, save_pretrained
import tokenizers_tiny

PROMPT = [1, 5, 17, 42, 9, 3]
GREEDY = 10
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

CHATGLM_AUTO_MAP = {
    "AutoConfig": "configuration_chatglm.ChatGLMConfig",
    "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration",
    "AutoModelForCausalLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
    "AutoModelForSeq2SeqLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
}

# name -> (builder, config.json, shards, tokenizer kind). Dtypes: bf16 (glm4, llama), fp16 (chatglm2, qwen2), fp32.
MODELS = {
    # ChatGLM2-6B's config.json fields, tiny sizes: multi-query groups, qkv bias, fp16 release
    "chatglm2": ("chatglm", dict(
        _name_or_path="THUDM/chatglm2-6b", model_type="chatglm", architectures=["ChatGLMModel"],
        auto_map=CHATGLM_AUTO_MAP, add_bias_linear=False, add_qkv_bias=True, apply_query_key_layer_scaling=True,
        apply_residual_connection_post_layernorm=False, attention_dropout=0.0, attention_softmax_in_fp32=True,
        bias_dropout_fusion=True, ffn_hidden_size=48, fp32_residual_connection=False, hidden_dropout=0.0,
        hidden_size=32, kv_channels=8, layernorm_epsilon=1e-05, multi_query_attention=True,
        multi_query_group_num=2, num_attention_heads=4, num_layers=2, original_rope=True, padded_vocab_size=128,
        post_layer_norm=True, rmsnorm=True, seq_length=64, use_cache=True, torch_dtype="float16",
        transformers_version="4.27.1", tie_word_embeddings=False, eos_token_id=2, pad_token_id=0), 2, "sentencepiece"),
    # GLM-4-9B's fields: rope_ratio (base = 10000 * rope_ratio), eos list, one multi-query group, bf16
    "glm4": ("chatglm", dict(
        _name_or_path="THUDM/glm-4-9b", model_type="chatglm", architectures=["ChatGLMModel"],
        auto_map=CHATGLM_AUTO_MAP, add_bias_linear=False, add_qkv_bias=True, apply_query_key_layer_scaling=True,
        apply_residual_connection_post_layernorm=False, attention_dropout=0.0, attention_softmax_in_fp32=True,
        attn_implementation="sdpa", bias_dropout_fusion=True, ffn_hidden_size=40, fp32_residual_connection=False,
        hidden_dropout=0.0, hidden_size=32, kv_channels=8, layernorm_epsilon=1.5625e-07,
        multi_query_attention=True, multi_query_group_num=1, num_attention_heads=4, num_hidden_layers=2,
        num_layers=2, rope_ratio=500, original_rope=True, padded_vocab_size=112, post_layer_norm=True,
        rmsnorm=True, seq_length=128, use_cache=True, torch_dtype="bfloat16", transformers_version="4.42.4",
        tie_word_embeddings=False, eos_token_id=[2, 7, 8], pad_token_id=2), 2, "tiktoken"),
    # a sparse config.json that leans on ChatGLMConfig defaults: no multi-query (per-head q|k|v
    # interleave), no qkv bias, kv_channels != hidden/heads (as after head-dim pruning); fp32, one file
    "chatglm3-mha": ("chatglm", dict(
        model_type="chatglm", architectures=["ChatGLMForConditionalGeneration"], ffn_hidden_size=40,
        hidden_size=32, kv_channels=12, num_attention_heads=4, num_layers=2, padded_vocab_size=96,
        seq_length=32, torch_dtype="float32"), 1, "sentencepiece"),
    # LLaMA-3-style: grouped-query attention, rope_theta 5e5, untied head, bf16, three shards
    "llama": ("llama", dict(
        architectures=["LlamaForCausalLM"], model_type="llama", attention_bias=False, attention_dropout=0.0,
        bos_token_id=1, eos_token_id=2, hidden_act="silu", hidden_size=32, initializer_range=0.02,
        intermediate_size=64, max_position_embeddings=256, mlp_bias=False, num_attention_heads=4,
        num_hidden_layers=2, num_key_value_heads=2, pretraining_tp=1, rms_norm_eps=1e-05, rope_scaling=None,
        rope_theta=500000.0, tie_word_embeddings=False, torch_dtype="bfloat16", transformers_version="4.44.0",
        use_cache=True, vocab_size=128), 3, "tokenizer.json"),
    # Qwen2-0.5B-style: q/k/v bias, tied embeddings, fp16, one file
    "qwen2": ("qwen2", dict(
        architectures=["Qwen2ForCausalLM"], model_type="qwen2", attention_dropout=0.0, bos_token_id=1,
        eos_token_id=2, hidden_act="silu", hidden_size=32, initializer_range=0.02, intermediate_size=48,
        max_position_embeddings=512, max_window_layers=2, num_attention_heads=4, num_hidden_layers=2,
        num_key_value_heads=2, rms_norm_eps=1e-06, rope_theta=1000000.0, sliding_window=512,
        tie_word_embeddings=True, torch_dtype="float16", transformers_version="4.40.1", use_cache=True,
        use_sliding_window=False, vocab_size=120), 1, "tokenizer.json"),
}


def build(arch, cfg):
    if arch == "chatglm":
        return chatglm.ChatGLMForConditionalGeneration(chatglm.ChatGLMConfig(**cfg))
    if arch == "llama":
        return llama.LlamaForCausalLM(llama.Config(llama.LLAMA_DEFAULTS, **cfg))
    return llama.Qwen2ForCausalLM(llama.Config(llama.QWEN2_DEFAULTS, **cfg))


def randomize(model, gen):
    """Weights large enough that logits spread (greedy tokens are decided by clear margins)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layernorm" in name or name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            elif "embed" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                scale = 2.5 if ("output_layer" in name or "lm_head" in name) else 1.0
                p.copy_(scale * torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)


def hf_state_dict(model, dtype):
    """What save_pretrained writes: every parameter and persistent buffer, a tied head dropped."""
    sd = model.state_dict()
    if getattr(model.config, "tie_word_embeddings", False) and "lm_head.weight" in sd:
        del sd["lm_head.weight"]
    return {k: v.to(dtype).contiguous() for k, v in sd.items()}


def logits_and_greedy(model, prompt):
    with torch.no_grad():
        logits = model(torch.tensor([prompt]))[0]
        ids, margins = list(prompt), []
        for _ in range(GREEDY):
            last = model(torch.tensor([ids]))[0, -1]
            top = torch.topk(last, 2).values
            margins.append(float(top[0] - top[1]))
            ids.append(int(last.argmax()))
    return logits, ids[len(prompt):], min(margins)


def load_reference(directory):
    """Loads an HF directory (ours or exported) into the matching re-implementation, in float32."""
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)
    arch = {"chatglm": "chatglm", "llama": "llama", "qwen2": "qwen2"}[cfg["model_type"]]
    model = build(arch, dict(cfg))
    state = {k: v.float() for k, v in load_pretrained(directory).items()}
    if getattr(model.config, "tie_word_embeddings", False):
        state.setdefault("lm_head.weight", state["model.embed_tokens.weight"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("rotary_emb.inv_freq")]
    if missing or unexpected:
        raise SystemExit(f"{directory}: missing {missing}, unexpected {unexpected}")
    return model.float().eval()


def main(out_root):
    for name, (arch, cfg, shards, tok) in MODELS.items():
        out = os.path.join(out_root, name)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        for seed in range(100):
            gen = torch.Generator().manual_seed(1234 + seed)
            model = build(arch, dict(cfg)).eval()
            randomize(model, gen)
            save_pretrained(hf_state_dict(model, DTYPES[cfg["torch_dtype"]]), out, shards)
            with open(os.path.join(out, "config.json"), "w") as f:
                json.dump(cfg, f, indent=2)
                f.write("\n")
            ref = load_reference(out)  # what a user of the saved checkpoint gets
            logits, greedy, margin = logits_and_greedy(ref, PROMPT)
            assert torch.isfinite(logits).all(), f"{name}: non-finite logits"
            if margin > 1e-2:
                break
        tokenizers_tiny.write(tok, out, cfg)
        golden = dict(name=name, model_type=cfg["model_type"], dtype=cfg["torch_dtype"], seed=1234 + seed,
                      input_ids=PROMPT, logits=[[round(float(x), 7) for x in row] for row in logits],
                      greedy=greedy, min_greedy_margin=round(margin, 6))
        with open(os.path.join(out, "golden.json"), "w") as f:
            json.dump(golden, f)
            f.write("\n")
        print(f"{name}: {arch} {cfg['torch_dtype']} shards={shards} greedy={greedy} margin={margin:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
