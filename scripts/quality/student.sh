#!/usr/bin/env bash
# The recipe's compression on a finished quality-study teacher (docs/QUALITY.md, "Students of the stronger teacher"):
# takes the corpus, tokenizer and teacher over from runs/quality/TEACHER/run (`run --from-run`, nothing trained again),
# runs the recipe's stages through downstream distillation (prune, distil, downstream), then scores the students as
# teacher.sh scored the teacher (first EVAL_SENTENCES test and unseen pairs per direction, greedy, --batch EVAL_BATCH):
# teacher-hybrid/ (when the run has one), student-compressed/ and student/, each also in int8 → runs/quality/NAME/eval-{test,unseen}-{MODEL}.json.
#   scripts/quality/student.sh NAME TEACHER PRESET [--set key=value ...]
# The --set values must keep every setting the teacher was trained with (threads too), or the teacher is trained again.
# Writes runs/quality/NAME/{run/, bin/}; resumable (run it again with the same arguments).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=$1; teacher=$2; preset=$3; shift 3
out="$root/runs/quality/$name"
from="$root/runs/quality/$teacher/run"
[ -f "$from/stages/teacher.done.json" ] || { echo "student.sh: $from has no finished teacher (run scripts/quality/teacher.sh $teacher first)" >&2; exit 2; }
mkdir -p "$out"
"$root/scripts/setup.sh"
if [ ! -f "$out/bin/LightGlm.Cli.dll" ]; then
  rm -rf "$out/bin.tmp" && cp -r "$root/src/LightGlm.Cli/bin/Release/net10.0" "$out/bin.tmp" && mv "$out/bin.tmp" "$out/bin"
fi
source "$root/scripts/quality/current-cli.sh"
echo "$(date -Is) $name: $preset from $teacher $*" >> "$out/commands.log"
(cd "$root" && dotnet "$out/bin/LightGlm.Cli.dll" run "$preset" --from-run "$from" --run-dir "$out/run" --until downstream "$@")
# The corpus the run used: its corpus stage records the directory (a run taken over with --from-run shares its donor's).
corpus=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dir"])' "$out/run/stages/corpus.done.json")
[ -f "$corpus/test.tsv" ] || { echo "student.sh: no test.tsv in the run's corpus $corpus" >&2; exit 2; }
for m in teacher-hybrid student-compressed student-compressed-int8 student student-int8; do
  [ -d "$out/run/${m%-int8}" ] || continue   # no hybrid stage (hybrid.enabled=false): no teacher-hybrid
  q=(); [[ "$m" == *-int8 ]] && q=(--quantize int8)
  score "$out/run/${m%-int8}" "$corpus" "$out/eval-%s-$m.json" "${q[@]}"
done
echo "$name done: $(date -Is)"
