"""Hand-written safetensors reader/writer (the `safetensors` package is not in Debian), plus
Hugging Face-style sharding with model.safetensors.index.json. Format: 8-byte little-endian
header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
then the raw little-endian tensor bytes. Same layout as huggingface/safetensors."""
import json
import os
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32"}
FROM_NAME = {v: k for k, v in DTYPES.items()}
# same-width integer views so that bf16 (which numpy lacks) can be turned into bytes
VIEW = {torch.bfloat16: torch.int16, torch.float16: torch.int16, torch.float32: torch.int32}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype in VIEW:
        t = t.view(VIEW[t.dtype])
    return t.numpy().tobytes()


def save_file(tensors, path, metadata=None):
    """tensors: ordered dict name -> tensor. Writes temp then renames."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # the reference writer pads the header to 8 bytes with spaces
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def load_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        dt = FROM_NAME[info["dtype"]]
        raw = bytearray(data[b:e])
        if dt in VIEW:
            t = torch.frombuffer(raw, dtype=VIEW[dt]).view(dt) if len(raw) else torch.empty(0, dtype=dt)
        else:
            t = torch.frombuffer(raw, dtype=dt) if len(raw) else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def save_pretrained(state, directory, shards=1):
    """As transformers' save_pretrained with safe_serialization: one model.safetensors, or
    model-0000i-of-0000n.safetensors + model.safetensors.index.json. Shards split by byte size
    in state order (like max_shard_size), so a tensor never straddles two files."""
    os.makedirs(directory, exist_ok=True)
    meta = {"format": "pt"}
    if shards <= 1:
        save_file(state, os.path.join(directory, "model.safetensors"), meta)
        return
    sizes = {k: v.numel() * v.element_size() for k, v in state.items()}
    total = sum(sizes.values())
    limit = -(-total // shards)
    groups, cur, cur_size = [], {}, 0
    for k, v in state.items():
        if cur and cur_size + sizes[k] > limit and len(groups) < shards - 1:
            groups.append(cur)
            cur, cur_size = {}, 0
        cur[k] = v
        cur_size += sizes[k]
    groups.append(cur)
    n = len(groups)
    weight_map = {}
    for i, g in enumerate(groups):
        fname = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        save_file(g, os.path.join(directory, fname), meta)
        for k in g:
            weight_map[k] = fname
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")


def load_pretrained(directory):
    idx = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    state = {}
    for fn in files:
        state.update(load_file(os.path.join(directory, fn)))
    return state
