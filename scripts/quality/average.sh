#!/usr/bin/env bash
# Checkpoint averaging as a quality lever (docs/QUALITY.md): averages the last N checkpoints of a finished
# quality-study teacher (runs/quality/NAME, from teacher.sh) and scores the average exactly as teacher.sh scores the
# teacher (first EVAL_SENTENCES test and unseen pairs per direction, greedy, 64 new tokens).
#   scripts/quality/average.sh NAME [N]      → runs/quality/NAME/avgN/{model/, eval-test.json, eval-unseen.json}
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=$1; n=${2:-2}
src="$root/runs/quality/$name"
out="$src/avg$n"
mkdir -p "$out"
source "$root/scripts/quality/current-cli.sh"
[ -f "$out/model/config.json" ] || current average --checkpoints "$src/run/checkpoints/teacher" --last "$n" --out "$out/model"
score "$out/model" "$src/run/corpus" "$out/eval-%s.json"
echo "$name avg$n done: $(date -Is)"
