#!/usr/bin/env bash
# Issue 20's first measurement at the paper's real size: a random checkpoint with ChatGLM2-6B's exact config and shapes
# (lightglm init), memory-mapped in bf16 through the one forward pass — load, prefill of a 64-token prompt (GEMMs over
# widened tiles), decode — then quantized to int8 straight from the map. Writes ~12.5 GB under DIR (default /tmp/chatglm2-6b).
#   scripts/large/chatglm2-6b-decode.sh [DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir=${1:-/tmp/chatglm2-6b}
"$root/scripts/setup.sh"
cli() { dotnet "$root/src/LightGlm.Cli/bin/Release/net10.0/LightGlm.Cli.dll" "$@"; }
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
[ -f "$dir/config.json" ] || cli init --shape chatglm2-6b --out "$dir"
prompt=$(seq -s, 1 64)
cli bench mapped-decode --model "$dir" --steps 3 --prompt-ids "$prompt"
cli bench mapped-decode --model "$dir" --steps 3 --prompt-ids "$prompt" --quantize int8
