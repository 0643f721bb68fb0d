#!/usr/bin/env bash
# The learning curve of a quality run: scores every snapshot taken by snapshot-checkpoints.sh (and the final teacher)
# on the first N test pairs per direction and the first N unseen-package pairs (en→zh), and writes
# runs/quality/NAME/curve.tsv: step, non-pad tokens, CPU seconds of training (from metrics.jsonl), BLEU en→zh,
# BLEU zh→en, BLEU unseen en→zh. Resumable: a scored snapshot keeps its eval-*.json.
#   CURVE_SENTENCES=300 scripts/quality/curve.sh NAME
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/runs/quality/$1"
n=${CURVE_SENTENCES:-300}
corpus="$out/run/corpus"
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
cli() { (cd "$root" && dotnet "$out/bin/LightGlm.Cli.dll" "$@"); }
for d in $(ls -d "$out"/curve/step-* 2>/dev/null | sort -t- -k2 -n); do
  [ -f "$d/eval-test.json" ] || { cli eval --model "$d" --test "$corpus/test.tsv" --max-sentences "$n" --max-new-tokens 64 --json > "$d/eval-test.tmp" && mv "$d/eval-test.tmp" "$d/eval-test.json"; }
  if [ -f "$corpus/unseen.tsv" ] && [ ! -f "$d/eval-unseen.json" ]; then
    cli eval --model "$d" --test "$corpus/unseen.tsv" --direction en-zh --max-sentences "$n" --max-new-tokens 64 --json > "$d/eval-unseen.tmp" && mv "$d/eval-unseen.tmp" "$d/eval-unseen.json"
  fi
done
/usr/bin/python3 - "$out" <<'PY'
import json, os, sys, glob
out = sys.argv[1]
metrics = {}
for line in open(os.path.join(out, "run", "metrics.jsonl"), encoding="utf-8"):
    m = json.loads(line)
    if m.get("stage") == "teacher" and "step" in m: metrics[m["step"]] = m
def near(step):
    ks = [k for k in metrics if k <= step]
    return metrics[max(ks)] if ks else {}
rows = []
for d in glob.glob(os.path.join(out, "curve", "step-*")):
    step = int(d.rsplit("-", 1)[1])
    st = json.load(open(os.path.join(d, "trainer_state.json")))
    t = json.load(open(os.path.join(d, "eval-test.json")))
    u = json.load(open(os.path.join(d, "eval-unseen.json"))) if os.path.exists(os.path.join(d, "eval-unseen.json")) else None
    m = near(step)
    rows.append((step, st.get("RealTokensSeen") or st.get("real_tokens_seen") or m.get("real_tokens", ""), st.get("TokensSeen") or st.get("tokens_seen", ""),
                 m.get("cpu_s", ""), t["en-zh"]["bleu"], t["zh-en"]["bleu"], u["en-zh"]["bleu"] if u else ""))
rows.sort()
with open(os.path.join(out, "curve.tsv"), "w", encoding="utf-8") as f:
    f.write("step\treal_tokens\ttokens\tcpu_s\tbleu_en_zh\tbleu_zh_en\tbleu_unseen_en_zh\n")
    for r in rows: f.write("\t".join(str(x) for x in r) + "\n")
print(open(os.path.join(out, "curve.tsv")).read())
PY
