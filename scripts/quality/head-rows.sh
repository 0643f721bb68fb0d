#!/usr/bin/env bash
# A/B of the LM head on target rows only (GlmModel.HeadOnTargetRowsOnly): the quick teacher for STEPS steps (default
# 400) with an older build that runs the head on every row (OLD_BIN, a LightGlm.Cli.dll directory) and with this build,
# both at once so both see the same machine load, one thread each; prints training CPU seconds per step and the loss at
# the end (the same math: equal up to float rounding).
#   scripts/quality/head-rows.sh OLD_BIN [STEPS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
old=$1; steps=${2:-400}
out="$root/runs/quality/head-rows"
rm -rf "$out/all-rows" "$out/target-rows"
mkdir -p "$out"
"$root/scripts/setup.sh"
rm -rf "$out/new-bin" && cp -r "$root/src/LightGlm.Cli/bin/Release/net10.0" "$out/new-bin"
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
run() { (cd "$root" && dotnet "$1/LightGlm.Cli.dll" run quick --run-dir "$2" --until teacher --set threads=1 --set teacher.train_steps="$steps" --set teacher.curve_pairs=0 --set corpus.max_train_pairs=0 --set teacher.pack=true --set teacher.label_smoothing=0.1 > "$2.log" 2>&1); }
run "$old" "$out/all-rows" & a=$!
run "$out/new-bin" "$out/target-rows" & b=$!
wait $a; wait $b
for k in all-rows target-rows; do
  /usr/bin/python3 - "$out/$k/metrics.jsonl" "$k" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = [r for r in rows if r.get("stage") == "teacher" and "cpu_s" in r]
last = t[-1]
print(f"{sys.argv[2]:12s} steps {last['step']}  CPU s/step {last['cpu_s'] / last['step']:.4f}  loss {last['loss']:.4f}  valid_loss {last.get('valid_loss')}")
PY
done
