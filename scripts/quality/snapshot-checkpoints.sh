#!/usr/bin/env bash
# Keeps a copy of every teacher checkpoint of a quality run as it appears (the trainer keeps only the last two), so
# that scripts/quality/curve.sh can score the learning curve afterwards. Stops when the run's teacher/ exists.
#   scripts/quality/snapshot-checkpoints.sh NAME
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/runs/quality/$1"
mkdir -p "$out/curve"
while true; do
  for d in "$out"/run/checkpoints/teacher/step-*; do
    [ -f "$d/model.safetensors" ] || continue
    s=$(basename "$d")
    [ -d "$out/curve/$s" ] && continue
    tmp="$out/curve/.$s.tmp"
    rm -rf "$tmp" && mkdir -p "$tmp"
    if cp "$d/config.json" "$d/model.safetensors" "$d/tokenizer.json" "$d/trainer_state.json" "$tmp/" 2>/dev/null; then mv "$tmp" "$out/curve/$s"
    else rm -rf "$tmp"; fi   # the trainer replaced it while we copied: take the next one
  done
  [ -d "$out/run/teacher" ] && break
  sleep 20
done
