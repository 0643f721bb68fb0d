"""Loads a Hugging Face checkpoint directory (e.g. one written by `lightglm export`) into the faithful
PyTorch re-implementation of its architecture and prints JSON {logits, greedy} for the given prompt.
Usage: run_reference.py DIR 1,5,17,42"""
import json
import sys

import torch

# One thread: torch 1.13's multi-threaded bf16 CPU kernels gave run-to-run differences in greedy tokens here.
torch.set_num_threads(1)

from make_goldens import load_reference, logits_and_greedy

model = load_reference(sys.argv[1])
prompt = [int(x) for x in sys.argv[2].split(",")]
logits, greedy, margin = logits_and_greedy(model, prompt)
json.dump(dict(logits=[[float(x) for x in row] for row in logits], greedy=greedy, min_greedy_margin=margin),
          sys.stdout)
