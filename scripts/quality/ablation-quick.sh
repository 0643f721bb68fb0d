#!/usr/bin/env bash
# The levers of issue 16 on/off at the quick preset's teacher budget (3,500 steps of 16 rows × 48 tokens, all training
# pairs of the quick package list, one thread so that two studies can share a 2-core machine). Each call below is one
# row of docs/QUALITY.md's lever table; teacher.sh skips what is already done, so the script can be run again.
set -euo pipefail
q="$(dirname "${BASH_SOURCE[0]}")/teacher.sh"
common=(--set corpus.max_train_pairs=0 --set threads=1)
"$q" q-allpairs quick "${common[@]}" --set teacher.pack=false --set teacher.label_smoothing=0
"$q" q-pack-ls quick "${common[@]}" --set teacher.pack=true --set teacher.label_smoothing=0.1
"$q" q-pack quick "${common[@]}" --set teacher.pack=true --set teacher.label_smoothing=0
