#!/usr/bin/env bash
# Issue 16's quick levers, third round (docs/QUALITY.md): the man pages as pre-training (`teacher.pretrain_steps`:
# next-token training on the corpus's monolingual Chinese manual-page lines before the translation steps), at the
# quick preset's budget (1,000 pre-training + 5,000 translation steps = the preset's 6,000) and on top of it
# (1,000 + 6,000). The row to compare with is q-wide-nodrop-6k (levers-quick2.sh), which is the quick preset at one
# thread. teacher.sh skips what is done, so the script can be run again to resume.
set -euo pipefail
q="$(dirname "${BASH_SOURCE[0]}")/teacher.sh"
"$q" q-pretrain-1k5k quick --set threads=1 --set teacher.pretrain_steps=1000 --set teacher.train_steps=5000
"$q" q-pretrain-1k6k quick --set threads=1 --set teacher.pretrain_steps=1000
