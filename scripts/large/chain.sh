#!/usr/bin/env bash
# Issue 20's chain at a real model's size: random weights of a real model's exact config (`lightglm init`; synthetic
# weights prove mechanics, memory and speed only, never quality) go through
#   import (bf16) → finetune --lora-rank (LoRA over the frozen bf16 teacher in place, merged copy in bf16)
#   → prune --target-params (streamed teacher) → distill (streamed teacher, real corpus pairs)
#   → export --quantize int8 → generate + bench mapped-decode
# and every step's wall time and peak RSS (/usr/bin/time -v) is tabled in DIR/chain.tsv and printed at the end.
#   scripts/large/chain.sh SHAPE DIR [--layers N] [--ratio R] [--steps S] [--batch B] [--max-len L] [--pairs P] [--lora-steps K]
# SHAPE: qwen2.5-0.5b | chatglm2-6b. --ratio: the student's share of the teacher's parameters (default 0.5).
# Resumable: a step whose output exists is skipped (delete DIR/NAME to run it again). Needs a built CLI and a corpus
# (the first one found under .cache/lightglm or runs/, or CORPUS=DIR with train.tsv).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shape=$1; dir=$2; shift 2
layers=(); ratio=0.5; steps=200; batch=4; maxlen=64; pairs=2000; lorasteps=20
while [ $# -gt 0 ]; do
  case $1 in
    --layers) layers=(--layers "$2"); shift 2;;
    --ratio) ratio=$2; shift 2;;
    --steps) steps=$2; shift 2;;
    --batch) batch=$2; shift 2;;
    --max-len) maxlen=$2; shift 2;;
    --pairs) pairs=$2; shift 2;;
    --lora-steps) lorasteps=$2; shift 2;;
    *) echo "chain.sh: unknown option $1" >&2; exit 2;;
  esac
done
cli=(dotnet "$root/src/LightGlm.Cli/bin/Release/net10.0/LightGlm.Cli.dll")
[ -f "${cli[1]}" ] || { echo "chain.sh: build first (dotnet build -c Release)" >&2; exit 2; }
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi
corpus=${CORPUS:-$(dirname "$(find "$root/.cache/lightglm" "$root/runs" -name train.tsv -path '*corpus*' 2>/dev/null | head -1)")}
[ -f "$corpus/train.tsv" ] || { echo "chain.sh: no corpus with train.tsv found (set CORPUS=DIR)" >&2; exit 2; }
mkdir -p "$dir"
table="$dir/chain.tsv"
[ -f "$table" ] || printf 'step\twall_s\tpeak_rss_mb\texit\n' > "$table"

# Real corpus text: both sides of the first PAIRS training pairs, one sequence per line (encoded by the model's tokenizer).
if [ ! -f "$dir/source.txt" ]; then
  head -n "$pairs" "$corpus/train.tsv" | awk -F'\t' 'NF>=2 {print $1; print $2}' > "$dir/source.txt.tmp" && mv "$dir/source.txt.tmp" "$dir/source.txt"
  tail -n "$pairs" "$corpus/train.tsv" | awk -F'\t' 'NF>=2 {print $1; print $2}' > "$dir/target.txt.tmp" && mv "$dir/target.txt.tmp" "$dir/target.txt"
  head -n 200 "$corpus/dev.tsv" 2>/dev/null | awk -F'\t' 'NF>=2 {print $1; print $2}' > "$dir/valid.txt" || true
fi

[ -f "$dir/pairs.tsv" ] || head -n "$pairs" "$corpus/train.tsv" > "$dir/pairs.tsv"   # translation pairs for the LoRA fine-tune

step() {  # step NAME OUTPUT -- command…
  local name=$1 out=$2; shift 3
  if [ -e "$out" ]; then echo "== $name: $out exists, skipped"; return 0; fi
  echo "== $name: $*"
  local rc=0
  /usr/bin/time -v -o "$dir/$name.time" "$@" 2>&1 | tee "$dir/$name.log" || rc=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$dir/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$dir/$name.time")
  printf '%s\t%s\t%s\t%s\n' "$name" "$wall" "$rss" "$rc" >> "$table"
  [ "$rc" -eq 0 ] || { echo "chain.sh: $name failed (exit $rc), see $dir/$name.log" >&2; exit "$rc"; }
}

step init "$dir/hf/config.json" -- "${cli[@]}" init --shape "$shape" --out "$dir/hf" "${layers[@]}"
step import "$dir/teacher/config.json" -- "${cli[@]}" import --from "$dir/hf" --out "$dir/teacher" --dtype bf16
# Random weights come without a tokenizer; the corpus text is encoded with the recipe's own BPE tokenizer (TOKENIZER=FILE,
# default the tokenizer.json beside the corpus): its ids lie below every real vocabulary's size, so the mechanics are exact.
if [ ! -f "$dir/teacher/tokenizer.json" ] && [ ! -f "$dir/teacher/tokenizer.model" ]; then
  tok=${TOKENIZER:-$(dirname "$corpus")/tokenizer/tokenizer.json}
  [ -f "$tok" ] || { echo "chain.sh: no tokenizer.json at $tok (set TOKENIZER=FILE)" >&2; exit 2; }
  cp "$tok" "$dir/teacher/tokenizer.json"
fi
total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("num_parameters", 0))' "$dir/teacher/config.json" 2>/dev/null || echo 0)
if [ "$total" = 0 ]; then
  total=$(python3 - "$dir/teacher" <<'PY'
import json, os, struct, sys
d = sys.argv[1]; n = 0
for f in sorted(os.listdir(d)):
    if f.endswith('.safetensors'):
        with open(os.path.join(d, f), 'rb') as h:
            k = struct.unpack('<Q', h.read(8))[0]; hdr = json.loads(h.read(k))
        for name, t in hdr.items():
            if name != '__metadata__':
                p = 1
                for s in t['shape']: p *= s
                n += p
print(n)
PY
)
fi
target=$(python3 -c "print(int($total * $ratio))")
echo "teacher: $total parameters; student target: $target ($ratio)"
step lora "$dir/teacher-lora/config.json" -- "${cli[@]}" finetune --model "$dir/teacher" --data "$dir/pairs.tsv" --out "$dir/teacher-lora" \
  --lora-rank 8 --steps "$lorasteps" --batch 1 --seq-len "$maxlen"
teacher="$dir/teacher-lora"
step prune "$dir/student/config.json" -- "${cli[@]}" prune --teacher "$teacher" --out "$dir/student" --target-params "$target" \
  --importance activation --calibration "$dir/valid.txt"
step distill "$dir/distilled/config.json" -- "${cli[@]}" distill --teacher "$teacher" --student "$dir/student" --out "$dir/distilled" \
  --source "$dir/source.txt" --target "$dir/target.txt" --valid "$dir/valid.txt" --steps "$steps" --batch "$batch" --max-len "$maxlen" \
  --top-k 64 --teacher-cache "$dir/teacher-cache.bin" --checkpoint-dir "$dir/distill-ckpt" --checkpoint-every 50
step export "$dir/int8/config.json" -- "${cli[@]}" export --model "$dir/distilled" --quantize int8 --out "$dir/int8"
step generate "$dir/generate.done" -- bash -c "${cli[*]} generate --model '$dir/int8' --prompt 'Permission denied' --max-new 16 && touch '$dir/generate.done'"
step bench "$dir/bench.done" -- bash -c "${cli[*]} bench mapped-decode --model '$dir/int8' --steps 8 --prompt-ids $(seq -s, 1 64) && touch '$dir/bench.done'"
echo; column -t -s $'\t' "$table"
