#!/usr/bin/env bash
# Terminology as a soft decoding constraint (docs/QUALITY.md, "Terminology"): scores a quality-study teacher en→zh on the
# first EVAL_SENTENCES test pairs with the corpus's mined glossary given to decoding (--terms, bias B), to set beside
# its eval-test.json (same rows, no constraint). Term accuracy counts the glossary terms of each source whose glossary
# translation is in the reference.
#   scripts/quality/terms.sh NAME [BIAS]     → runs/quality/NAME/terms-BIAS.json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name=$1; bias=${2:-3}
src="$root/runs/quality/$name"
source "$root/scripts/quality/current-cli.sh"
corpus="$src/run/corpus"
out="$src/terms-$bias.json"
[ -f "$out" ] || (current eval --model "$src/run/teacher" \
  --test "$corpus/test.tsv" --glossary "$corpus/glossary.tsv" --terms "$corpus/glossary.tsv" --term-bias "$bias" \
  --direction en-zh --max-sentences "${EVAL_SENTENCES:-1000}" --max-new-tokens 64 --batch "${EVAL_BATCH:-16}" --json > "$out.tmp" && mv "$out.tmp" "$out")
echo "$name terms bias $bias done: $(date -Is)"
