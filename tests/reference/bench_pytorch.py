"""Measures PyTorch (1.13, CPU, fp32) on the bench configs of issue 2, at its best thread setting.

Training: ms/step and tokens/s of forward + backward + AdamW on random tokens (B, T).
Also train_cpu_ms_per_step: the process's CPU time per step (all threads).
Decode: batch 1, a prompt of --prompt-len tokens (prefill ms), then --gen-len greedy tokens one
at a time with a KV cache (ms/token). Peak RSS: ru_maxrss of the measuring process.
The model is lightglm_ref.LightGlmRef (the contract's math in ordinary PyTorch ops, as Hugging
Face's LLaMA of the 1.13 era: matmul + masked softmax attention, torch.cat KV cache).

Thread settings need a fresh process each (OpenMP/OpenBLAS read their env at load), so by
default this script probes every setting in a child process with a few steps, then measures
fully at the best setting for training and, separately, for decoding, and says which.
Prints one JSON object on the last line of stdout.

  /usr/bin/python3 tests/reference/bench_pytorch.py --config small [--steps 10] [--setting best]
  /usr/bin/python3 tests/reference/bench_pytorch.py --config-json path/config.json --batch 8 --seq 128
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

# name -> (torch intra-op threads, environment for the child)
SETTINGS = {
    "t1": (1, {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}),
    "t1-blas2": (1, {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "2"}),
    "t2": (2, {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}),
    "t2-passive": (2, {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}),
}

# Issue 2's bench configs: untied head, RMSNorm, SwiGLU, full rotary (LLaMA-style), causal.
BENCH = {
    "tiny": (dict(vocab_size=4096, hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                  num_key_value_heads=2, intermediate_size=344), 16, 64),
    "small": (dict(vocab_size=8192, hidden_size=256, num_hidden_layers=8, num_attention_heads=8,
                   num_key_value_heads=2, intermediate_size=688), 8, 128),
}
COMMON = dict(model_type="llama", rms_norm_eps=1e-5, rope_theta=10000.0, partial_rotary_factor=1.0,
              rope_interleaved=False, attention_bias=False, tie_word_embeddings=False, prefix_lm=False,
              hidden_dropout=0.0, max_position_embeddings=2048)
ADAMW = dict(lr=3e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def measure(cfg_dict, batch, seq, steps, warmup, prompt_len, gen_len, what):
    """Runs in the child, with its thread setting already applied."""
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from lightglm_ref import Config, LightGlmRef

    torch.manual_seed(0)
    cfg = Config(cfg_dict)
    model = LightGlmRef(cfg)
    out = {"params": sum(p.numel() for p in model.parameters())}
    if what in ("train", "all"):
        opt = torch.optim.AdamW(model.parameters(), **ADAMW)
        x = torch.randint(0, cfg.vocab_size, (batch, seq))
        y = torch.randint(0, cfg.vocab_size, (batch, seq))

        def step():
            opt.zero_grad(set_to_none=True)
            loss = LightGlmRef.loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        for _ in range(warmup):
            step()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        dt = (time.perf_counter() - t0) / steps
        out["train_ms_per_step"] = dt * 1e3
        # CPU time of the process (all threads, OpenBLAS/OpenMP spinning included): steadier on a loaded machine
        out["train_cpu_ms_per_step"] = (time.process_time() - c0) / steps * 1e3
        out["train_tokens_per_s"] = batch * seq / dt
    if what in ("decode", "all"):
        model.eval()
        prompt = torch.randint(0, cfg.vocab_size, (1, prompt_len))

        def generate():
            caches = [dict() for _ in range(cfg.num_hidden_layers)]
            t0 = time.perf_counter()
            logits = model(prompt, None, caches, 0)[:, -1]
            t1 = time.perf_counter()
            nxt = logits.argmax(-1, keepdim=True)
            for i in range(gen_len):
                nxt = model(nxt, None, caches, prompt_len + i)[:, -1].argmax(-1, keepdim=True)
            return t1 - t0, (time.perf_counter() - t1) / gen_len

        with torch.inference_mode():
            generate()  # warm-up
            runs = [generate() for _ in range(3)]
        out["prefill_ms"] = min(r[0] for r in runs) * 1e3
        out["decode_ms_per_token"] = min(r[1] for r in runs) * 1e3
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_child(args, setting, steps, warmup, what):
    threads, env = SETTINGS[setting]
    cmd = [sys.executable, os.path.abspath(__file__), "--setting", setting, "--child",
           "--config-json-text", json.dumps(args.cfg), "--batch", str(args.batch), "--seq", str(args.seq),
           "--steps", str(steps), "--warmup", str(warmup), "--prompt-len", str(args.prompt_len),
           "--gen-len", str(args.gen_len), "--what", what]
    p = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench_pytorch: child for setting {setting} failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(BENCH), default="tiny")
    ap.add_argument("--config-json", help="a config.json to use instead of --config (with --batch/--seq)")
    ap.add_argument("--config-json-text", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--seq", type=int)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--prompt-len", type=int, help="decode prompt length (default seq/2)")
    ap.add_argument("--gen-len", type=int, help="decoded tokens (default seq/2)")
    ap.add_argument("--what", choices=["train", "decode", "all"], default="all")
    ap.add_argument("--setting", default="best", help="best (probe all) or one of " + ", ".join(SETTINGS))
    ap.add_argument("--probe-steps", type=int, default=2)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    arch, batch, seq = BENCH[args.config]
    if args.config_json_text:
        args.cfg = json.loads(args.config_json_text)
    elif args.config_json:
        with open(args.config_json) as f:
            args.cfg = json.load(f)
    else:
        args.cfg = {**COMMON, **arch}
    args.batch = args.batch or batch
    args.seq = args.seq or seq
    args.prompt_len = args.prompt_len or args.seq // 2
    args.gen_len = args.gen_len or args.seq // 2

    if args.child:
        import torch
        torch.set_num_threads(SETTINGS[args.setting][0])
        r = measure(args.cfg, args.batch, args.seq, args.steps, args.warmup, args.prompt_len, args.gen_len, args.what)
        print(json.dumps(r))
        return

    names = list(SETTINGS) if args.setting == "best" else [args.setting]
    if args.setting != "best" and args.setting not in SETTINGS:
        raise SystemExit(f"bench_pytorch: unknown --setting {args.setting}; use best or one of {', '.join(SETTINGS)}")
    probes = {}
    if len(names) > 1:
        for n in names:
            probes[n] = run_child(args, n, args.probe_steps, 1, args.what)
    pick = {}
    for metric, key, better in (("train", "train_tokens_per_s", max), ("decode", "decode_ms_per_token", min)):
        if args.what in (metric, "all"):
            pick[metric] = names[0] if len(names) == 1 else better(names, key=lambda n: probes[n][key])
    result = {"config": args.config if not (args.config_json or args.config_json_text) else "custom",
              "batch": args.batch, "seq": args.seq, "prompt_len": args.prompt_len, "gen_len": args.gen_len,
              "steps": args.steps, "setting": pick,
              "settings": {n: {"torch_threads": SETTINGS[n][0], **SETTINGS[n][1]} for n in names},
              "probe": probes}
    import torch
    result["torch"] = torch.__version__
    rss = []
    if len(set(pick.values())) == 1:  # one process measures everything
        r = run_child(args, next(iter(pick.values())), args.steps, args.warmup, args.what)
        result.update({k: v for k, v in r.items() if k != "peak_rss_mb"})
        rss.append(r["peak_rss_mb"])
    else:
        for metric, setting in pick.items():
            r = run_child(args, setting, args.steps, args.warmup, metric)
            result.update({k: v for k, v in r.items() if k != "peak_rss_mb"})
            rss.append(r["peak_rss_mb"])
    result["peak_rss_mb"] = max(rss)  # the largest measuring process
    print(json.dumps(result))


if __name__ == "__main__":
    main()
