#!/usr/bin/env bash
# The quickstart as a new user runs it, timed: a fresh clone of this repository with an empty LightGlm cache
# (packages downloaded, corpus, tokenizer, every stage), `/usr/bin/time -v ./lightglm quickstart`, then its teacher
# and final student scored as the quality studies score (first 1,000 test and unseen pairs per direction).
#   scripts/quality/quickstart-timed.sh NAME      → runs/quality/NAME/{quickstart.log, eval-*.json}; the clone in /tmp
# Run it on an idle machine: the wall time is the budget the issue sets (≤ 20 minutes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=$1
out="$root/runs/quality/$name"
clone="/tmp/lightglm-quickstart-$name"
mkdir -p "$out"
if [ ! -f "$out/quickstart.log" ] || ! grep -q 'Exit status: 0' "$out/quickstart.log"; then
  rm -rf "$clone" && git clone -q "$root" "$clone"
  git -C "$clone" log --oneline -1 > "$out/commit.txt"
  (cd "$clone" && unset LIGHTGLM_CACHE && /usr/bin/time -v ./lightglm quickstart) > "$out/quickstart.log" 2>&1
fi
source "$root/scripts/quality/current-cli.sh"
score "$clone/runs/quickstart/teacher" "$clone/runs/quickstart/corpus" "$out/eval-%s.json"
score "$clone/runs/quickstart/student" "$clone/runs/quickstart/corpus" "$out/eval-%s-student.json"
echo "$name done: $(date -Is)"
