#!/usr/bin/env bash
# One point of the quality study (docs/QUALITY.md): trains a recipe's teacher with the given settings, then scores it
# on the hash-split test set (first N pairs, both directions) and, when the corpus has one, on the unseen packages.
# Resumable: run it again with the same arguments and it continues where it stopped.
#   scripts/quality/teacher.sh NAME PRESET [--set key=value ...]
# Writes runs/quality/NAME/{run/, eval-test.json, eval-unseen.json, bin/}. The binaries are copied first, so rebuilding
# the repository while it trains does not disturb it; the scoring runs the repository's current build (`eval --batch`,
# EVAL_BATCH sentences at a time, default 16: the same greedy translations as one at a time, several times faster).
# EVAL_SENTENCES (default 1000) pairs per direction are scored.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=$1; preset=$2; shift 2
out="$root/runs/quality/$name"
mkdir -p "$out"
"$root/scripts/setup.sh"
if [ ! -f "$out/bin/LightGlm.Cli.dll" ]; then
  rm -rf "$out/bin.tmp" && cp -r "$root/src/LightGlm.Cli/bin/Release/net10.0" "$out/bin.tmp" && mv "$out/bin.tmp" "$out/bin"
fi
source "$root/scripts/quality/current-cli.sh"
cli() { (cd "$root" && dotnet "$out/bin/LightGlm.Cli.dll" "$@"); }
echo "$(date -Is) $name: $preset $*" >> "$out/commands.log"
cli run "$preset" --run-dir "$out/run" --until teacher "$@"
score "$out/run/teacher" "$out/run/corpus" "$out/eval-%s.json"
echo "$name done: $(date -Is)"
