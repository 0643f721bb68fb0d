#!/usr/bin/env bash
# Translation memory on a new package as it comes: the teacher of a run scored en→zh on unseen-all.tsv (every pair of
# the held-out packages, also strings their English shares with the training packages) without and with the training
# split as the memory; and on the hash-split test set (no English string is in two splits, so no exact hit there by
# construction — the check that the memory never leaks test answers).
#   scripts/quality/memory.sh RUN_DIR [N]   → RUN_DIR/memory/*.json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
run=$(cd "$1" && pwd); n=${2:-1000}
out="$run/memory"; mkdir -p "$out"
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
cli() { (cd "$root" && ./lightglm "$@"); }
c="$run/corpus"
for mem in none train; do
  for set in unseen-all test; do
    f="$out/$set-$mem.json"; [ -f "$f" ] && continue
    args=(eval --model "$run/teacher" --test "$c/$set.tsv" --direction en-zh --max-sentences "$n" --max-new-tokens 64 --json)
    [ "$mem" = train ] && args+=(--memory "$c/train.tsv")
    cli "${args[@]}" > "$f.tmp" && mv "$f.tmp" "$f"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
print("set\tmemory\tBLEU en→zh\tchrF2\tmemory hits\tsentences")
for s in ["unseen-all", "test"]:
    for m in ["none", "train"]:
        j = json.load(open(os.path.join(out, f"{s}-{m}.json")))["en-zh"]
        print(f"{s}\t{m}\t{j['bleu']}\t{j['chrf']}\t{j.get('memory_hits')}\t{j['sentences']}")
PY
