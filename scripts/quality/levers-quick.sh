#!/usr/bin/env bash
# The remaining levers of issue 16 at the quick preset's teacher budget, each against q-pack-ls (the quick preset:
# packed rows + label smoothing 0.1, 3,500 steps of 16 × 48 tokens, one thread): dropout, a larger batch at the same
# tokens, the inverse-square-root schedule, an 8k vocabulary, and a wider/shallower shape. One row of docs/QUALITY.md's
# lever table per call; teacher.sh skips what is done, so the script can be run again to resume.
set -euo pipefail
q="$(dirname "${BASH_SOURCE[0]}")/teacher.sh"
common=(--set corpus.max_train_pairs=0 --set threads=1 --set teacher.pack=true --set teacher.label_smoothing=0.1)
# q-drop: meant as "+ dropout 0.1", but the quick preset already had 0.1 — a repeat of q-pack-ls (see levers-quick2.sh)
"$q" q-drop quick "${common[@]}" --set teacher.dropout=0.1
"$q" q-batch32 quick "${common[@]}" --set teacher.batch_size=32 --set teacher.train_steps=1750
"$q" q-v8k quick "${common[@]}" --set tokenizer.vocab_size=8000
"$q" q-isqrt quick "${common[@]}" --set teacher.lr_schedule=inverse_sqrt
"$q" q-wide quick "${common[@]}" --set teacher.hidden_size=256 --set teacher.num_hidden_layers=2 --set teacher.num_attention_heads=8 --set teacher.intermediate_size=688
