#!/usr/bin/env bash
# Downstream replay on the quick recipe (docs/QUALITY.md): the finished quickstart of quickstart-timed.sh NAME taken
# over up to its compressed student (`run --from-run`), downstream distillation again with --set downstream.replay=R,
# the final student scored as the studies score.   scripts/quality/quick-replay.sh NAME R OUT
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=$1; replay=$2; outname=$3
from="/tmp/lightglm-quickstart-$name/runs/quickstart"
out="$root/runs/quality/$outname"
[ -f "$from/stages/compression.done.json" ] || { echo "quick-replay.sh: no finished quickstart at $from (run quickstart-timed.sh $name)" >&2; exit 2; }
mkdir -p "$out"
source "$root/scripts/quality/current-cli.sh"
current run quick --from-run "$from" --run-dir "$out/run" --until downstream --set downstream.replay="$replay"
corpus=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dir"])' "$out/run/stages/corpus.done.json")
score "$out/run/student" "$corpus" "$out/eval-%s-student.json"
echo "$outname done: $(date -Is)"
