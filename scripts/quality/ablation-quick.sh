#!/usr/bin/env bash
# The levers of issue 16 on/off at the quick preset's teacher budget (3,500 steps, all training pairs, one thread so
# that two studies can share a 2-core machine). Each row of docs/QUALITY.md's lever table is one call below.
set -euo pipefail
q="$(dirname "${BASH_SOURCE[0]}")/teacher.sh"
common=(--set corpus.max_train_pairs=0 --set threads=1)
"$q" q-allpairs quick "${common[@]}"
"$q" q-pack quick "${common[@]}" --set teacher.pack=true
"$q" q-pack-ls quick "${common[@]}" --set teacher.pack=true --set teacher.label_smoothing=0.1
