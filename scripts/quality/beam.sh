#!/usr/bin/env bash
# Greedy against beam search (width 4, length penalty 0.6 and 1.0) for one quality run's teacher, on the first N
# test pairs per direction: does beam search pay for its cost on short UI strings?
#   scripts/quality/beam.sh NAME [N]   → runs/quality/NAME/beam/*.json and a table
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/runs/quality/$1"; n=${2:-500}
mkdir -p "$out/beam"
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
cli() { (cd "$root" && ./lightglm "$@"); }
for cfg in "1 1.0" "4 1.0" "4 0.6"; do
  set -- $cfg; f="$out/beam/beam$1-lp$2.json"; [ -f "$f" ] && continue
  cli eval --model "$out/run/teacher" --test "$out/run/corpus/test.tsv" --max-sentences "$n" --max-new-tokens 64 \
    --beam "$1" --length-penalty "$2" --json > "$f.tmp" && mv "$f.tmp" "$f"
done
/usr/bin/python3 - "$out/beam" <<'PY'
import json, sys, os, glob
print("beam\tlength penalty\tBLEU en→zh\tBLEU zh→en\tms/sentence en→zh")
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    j = json.load(open(f)); b = os.path.basename(f)[4:-5].split("-lp")
    print(f"{b[0]}\t{b[1]}\t{j['en-zh']['bleu']}\t{j['zh-en']['bleu']}\t{j['en-zh']['latency_p50_ms']}")
PY
