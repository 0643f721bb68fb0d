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
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
source "$root/scripts/quality/current-cli.sh"
cli() { current "$@"; }
[ -f "$out/model/config.json" ] || cli average --checkpoints "$src/run/checkpoints/teacher" --last "$n" --out "$out/model"
e=${EVAL_SENTENCES:-1000}
corpus="$src/run/corpus"
if [ ! -f "$out/eval-test.json" ]; then
  cli eval --model "$out/model" --test "$corpus/test.tsv" --glossary "$corpus/glossary.tsv" --max-sentences "$e" \
    --max-new-tokens 64 --batch "${EVAL_BATCH:-16}" --json > "$out/eval-test.json.tmp" && mv "$out/eval-test.json.tmp" "$out/eval-test.json"
fi
if [ -f "$corpus/unseen.tsv" ] && [ ! -f "$out/eval-unseen.json" ]; then
  cli eval --model "$out/model" --test "$corpus/unseen.tsv" --max-sentences "$e" --max-new-tokens 64 --batch "${EVAL_BATCH:-16}" --json \
    > "$out/eval-unseen.json.tmp" && mv "$out/eval-unseen.json.tmp" "$out/eval-unseen.json"
fi
echo "$name avg$n done: $(date -Is)"
