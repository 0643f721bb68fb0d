#!/usr/bin/env bash
# Neural fuzzy repair (docs/TRANSLATION.md, "Fuzzy matches in the prompt"; issue 16 lever 4). Trains a quick-preset teacher
# at one thread with teacher.fuzzy = FUZZY (default 0.5: that fraction of the training examples gets its best fuzzy match
# from train.tsv in the prompt) — BASE's settings (default q-wide-nodrop-6k: the quick preset with --set threads=1), taking
# BASE's corpus and tokenizer over (`run --from-run`) so both teachers saw the same data — then scores it, and BASE's plain
# teacher beside it, on the test split, the unseen packages and unseen-all (every pair of the held-out packages, also
# strings their English shares with train): without a memory (none), with train.tsv as an exact-only memory (exact:
# --fuzzy off) and, for the fuzzy teacher, with fuzzy prompts too (fuzzy: --fuzzy auto). First EVAL_SENTENCES (1000) pairs
# per direction, greedy, 64 new tokens, EVAL_BATCH (16) at a time, with the current build (current-cli.sh).
#   scripts/quality/fuzzy.sh [NAME] [--set key=value ...]        (NAME default q-fuzzy-6k)
# Writes runs/quality/NAME/{run/, bin/, eval/{fuzzy,base}-SET-MODE.json} and prints the table; resumable (run it again
# with the same arguments).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=${1:-q-fuzzy-6k}; [ $# -gt 0 ] && shift
fuzzy=${FUZZY:-0.5}; base=${BASE:-q-wide-nodrop-6k}
out="$root/runs/quality/$name"
mkdir -p "$out/eval"
"$root/scripts/setup.sh"
if [ ! -f "$out/bin/LightGlm.Cli.dll" ]; then
  rm -rf "$out/bin.tmp" && cp -r "$root/src/LightGlm.Cli/bin/Release/net10.0" "$out/bin.tmp" && mv "$out/bin.tmp" "$out/bin"
fi
source "$root/scripts/quality/current-cli.sh"
baserun="$root/runs/quality/$base/run"
from=(); [ -f "$baserun/stages/teacher.done.json" ] && from=(--from-run "$baserun")
[ ${#from[@]} -eq 0 ] && echo "fuzzy.sh: $baserun has no finished teacher: building the corpus and tokenizer, no plain teacher to compare" >&2
echo "$(date -Is) $name: quick ${from[*]} --set threads=1 --set teacher.fuzzy=$fuzzy $*" >> "$out/commands.log"
(cd "$root" && dotnet "$out/bin/LightGlm.Cli.dll" run quick "${from[@]}" --run-dir "$out/run" --until teacher \
  --set threads=1 --set teacher.fuzzy="$fuzzy" "$@")
[ -f "$out/run/teacher/prompt_format.json" ] || { echo "fuzzy.sh: $out/run/teacher has no prompt_format.json: it was not trained with fuzzy prompts" >&2; exit 2; }
# The corpus the run used: its corpus stage records the directory (a run taken over with --from-run shares its donor's).
corpus=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dir"])' "$out/run/stages/corpus.done.json")
[ -f "$corpus/train.tsv" ] || { echo "fuzzy.sh: no train.tsv in the run's corpus $corpus" >&2; exit 2; }

# ev MODEL SET MODE OUT: one scoring, written whole; one already written, or a set the corpus lacks, is skipped.
ev() {
  local model=$1 set=$2 mode=$3 f=$4 m=() g=()
  if [ -f "$f" ] || [ ! -f "$corpus/$set.tsv" ]; then return 0; fi
  case $mode in
    exact) m=(--memory "$corpus/train.tsv" --fuzzy off) ;;
    fuzzy) m=(--memory "$corpus/train.tsv" --fuzzy auto) ;;
  esac
  [ "$set" = test ] && g=(--glossary "$corpus/glossary.tsv")
  current eval --model "$model" --test "$corpus/$set.tsv" "${g[@]}" "${m[@]}" --max-sentences "${EVAL_SENTENCES:-1000}" \
    --max-new-tokens 64 --batch "${EVAL_BATCH:-16}" --json > "$f.tmp" && mv "$f.tmp" "$f"
}
for set in test unseen unseen-all; do
  for mode in none exact fuzzy; do ev "$out/run/teacher" "$set" "$mode" "$out/eval/fuzzy-$set-$mode.json"; done
  if [ ${#from[@]} -gt 0 ]; then
    for mode in none exact; do ev "$baserun/teacher" "$set" "$mode" "$out/eval/base-$set-$mode.json"; done
  fi
done

/usr/bin/python3 - "$out/eval" "$base" <<'PY'
import json, os, sys
d, base = sys.argv[1], sys.argv[2]
print("set\tdirection\tteacher\tmemory\tBLEU\tchrF2\texact hits\tfuzzy hits\tsentences")
for s in ["test", "unseen", "unseen-all"]:
    for direction in ["en-zh", "zh-en"]:
        for model, label in [("base", f"plain ({base})"), ("fuzzy", "fuzzy-trained")]:
            for mode in ["none", "exact", "fuzzy"]:
                f = os.path.join(d, f"{model}-{s}-{mode}.json")
                if not os.path.exists(f): continue
                j = json.load(open(f))[direction]
                print(f"{s}\t{direction}\t{label}\t{mode}\t{j['bleu']}\t{j['chrf']}\t{j.get('memory_hits')}\t{j.get('fuzzy_hits')}\t{j['sentences']}")
PY
echo "$name done: $(date -Is)"
