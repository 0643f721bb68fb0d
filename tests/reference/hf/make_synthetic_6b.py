"""Writes a ChatGLM2-6B-shaped checkpoint with synthetic (random) bf16 weights — THUDM/chatglm2-6b's config.json
and tensor names/shapes, 7 safetensors shards + index, ~12.5 GB — for measuring load and decode memory/time on
this machine. Not a real model: its outputs are meaningless. Usage: make_synthetic_6b.py OUT_DIR [num_layers]"""
import json
import os
import struct
import sys

import torch

out = sys.argv[1]
layers = int(sys.argv[2]) if len(sys.argv) > 2 else 28
cfg = {
    "_name_or_path": "THUDM/chatglm2-6b (synthetic weights)", "model_type": "chatglm",
    "architectures": ["ChatGLMModel"], "add_bias_linear": False, "add_qkv_bias": True,
    "apply_query_key_layer_scaling": True, "apply_residual_connection_post_layernorm": False,
    "attention_dropout": 0.0, "attention_softmax_in_fp32": True, "bias_dropout_fusion": True,
    "ffn_hidden_size": 13696, "fp32_residual_connection": False, "hidden_dropout": 0.0, "hidden_size": 4096,
    "kv_channels": 128, "layernorm_epsilon": 1e-05, "multi_query_attention": True, "multi_query_group_num": 2,
    "num_attention_heads": 32, "num_layers": layers, "original_rope": True, "padded_vocab_size": 65024,
    "post_layer_norm": True, "rmsnorm": True, "seq_length": 32768, "use_cache": True, "torch_dtype": "bfloat16",
    "transformers_version": "4.27.1", "tie_word_embeddings": False, "eos_token_id": 2, "pad_token_id": 0}
C, F, V, H, G, D = 4096, 13696, 65024, 32, 2, 128
shapes = {"transformer.embedding.word_embeddings.weight": (V, C), "transformer.rotary_pos_emb.inv_freq": (D // 4,)}
for i in range(layers):
    p = f"transformer.encoder.layers.{i}."
    shapes.update({p + "input_layernorm.weight": (C,), p + "self_attention.query_key_value.weight": ((H + 2 * G) * D, C),
                   p + "self_attention.query_key_value.bias": ((H + 2 * G) * D,),
                   p + "self_attention.dense.weight": (C, H * D), p + "post_attention_layernorm.weight": (C,),
                   p + "mlp.dense_h_to_4h.weight": (2 * F, C), p + "mlp.dense_4h_to_h.weight": (C, F)})
shapes["transformer.encoder.final_layernorm.weight"] = (C,)
shapes["transformer.output_layer.weight"] = (V, C)

os.makedirs(out, exist_ok=True)
names = list(shapes)
nbytes = {n: 2 * int(torch.tensor(shapes[n]).prod()) for n in names}
total = sum(nbytes.values())
n_shards = 7
limit = -(-total // n_shards)
groups, cur, size = [], [], 0
for n in names:
    if cur and size + nbytes[n] > limit and len(groups) < n_shards - 1:
        groups.append(cur)
        cur, size = [], 0
    cur.append(n)
    size += nbytes[n]
groups.append(cur)
gen = torch.Generator().manual_seed(0)
# Fresh randn for 6.2B values is far too slow on a shared 2-core machine; a 32 MB pool of N(0, 1/C) bf16 values
# is read cyclically from a random start per tensor instead (the numbers are meaningless either way).
POOL = (torch.randn(1 << 24, generator=gen) / C ** 0.5).to(torch.bfloat16).view(torch.int16).numpy().tobytes()


def pool_bytes(n, start):
    out, at = [], start % len(POOL)
    while n > 0:
        take = min(n, len(POOL) - at)
        out.append(POOL[at:at + take])
        n -= take
        at = 0
    return b"".join(out)


weight_map = {}
for s, group in enumerate(groups):
    fname = f"model-{s + 1:05d}-of-{len(groups):05d}.safetensors"
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for n in group:
        header[n] = {"dtype": "BF16", "shape": list(shapes[n]), "data_offsets": [off, off + nbytes[n]]}
        off += nbytes[n]
        weight_map[n] = fname
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(out, fname + ".tmp"), "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for n in group:
            shape = shapes[n]
            if n.endswith("inv_freq"):
                t = 1.0 / (10000 ** (torch.arange(0, D // 2, 2).float() / (D // 2)))
            elif len(shape) == 1:
                t = 1.0 + 0.05 * torch.randn(shape, generator=gen)
            else:  # 32 MB at a time keeps memory small
                left, start = nbytes[n], 2 * int(torch.randint(0, 1 << 23, (1,), generator=gen))
                while left > 0:
                    chunk = min(left, 1 << 25)
                    f.write(pool_bytes(chunk, start))
                    start += chunk
                    left -= chunk
                continue
            f.write(t.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
    os.replace(os.path.join(out, fname + ".tmp"), os.path.join(out, fname))
    print(f"{fname}: {len(group)} tensors", flush=True)
with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2)
print(f"{out}: {total / 1e9:.2f} GB, {sum(int(torch.tensor(shapes[n]).prod()) for n in names) / 1e9:.3f} B parameters")
