#!/usr/bin/env bash
# Issue 16's quick levers, second round (docs/QUALITY.md). levers-quick.sh's "+ dropout 0.1" row (q-drop) repeated the
# quick preset exactly (its dropout was already the defaults' 0.1), so its difference to q-pack-ls is run-to-run noise;
# the real lever is dropout 0. Then the 2 × 256 shape (q-wide) without dropout, and the same with the longer schedule a
# quickstart could afford if its compression stage kept only the standard preset's baselines.
# teacher.sh skips what is done, so the script can be run again to resume.
set -euo pipefail
q="$(dirname "${BASH_SOURCE[0]}")/teacher.sh"
common=(--set corpus.max_train_pairs=0 --set threads=1 --set teacher.pack=true --set teacher.label_smoothing=0.1)
wide=(--set teacher.hidden_size=256 --set teacher.num_hidden_layers=2 --set teacher.num_attention_heads=8 --set teacher.intermediate_size=688)
"$q" q-nodrop quick "${common[@]}" --set teacher.dropout=0
"$q" q-wide-nodrop quick "${common[@]}" "${wide[@]}" --set teacher.dropout=0
"$q" q-wide-nodrop-6k quick "${common[@]}" "${wide[@]}" --set teacher.dropout=0 --set teacher.train_steps=6000
"$q" q-wide-nodrop-9k quick "${common[@]}" "${wide[@]}" --set teacher.dropout=0 --set teacher.train_steps=9000
