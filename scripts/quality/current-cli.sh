# Sourced by the quality scripts: `current ARGS…` runs the repository's current build from a snapshot of it
# (runs/quality/.cli/<hash of the two assemblies>/), so rebuilding the repository while a scoring runs cannot replace
# the assemblies under it; `score` is the studies' one way of scoring a model.
# OpenBLAS's kernel family from the CPU, as the launcher picks it.
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell; fi
fi

current() {
  local bin="$root/src/LightGlm.Cli/bin/Release/net10.0"
  local key; key=$(cat "$bin/LightGlm.dll" "$bin/LightGlm.Cli.dll" | md5sum | cut -c1-12)
  local snap="$root/runs/quality/.cli/$key"
  if [ ! -f "$snap/LightGlm.Cli.dll" ]; then
    mkdir -p "$root/runs/quality/.cli" && rm -rf "$snap.tmp" && cp -r "$bin" "$snap.tmp" && mv "$snap.tmp" "$snap"
  fi
  (cd "$root" && dotnet "$snap/LightGlm.Cli.dll" "$@")
}

# score MODEL CORPUS_DIR OUT_PATTERN [eval options…]: the first EVAL_SENTENCES (1000) pairs per direction of the test
# split (with the corpus's glossary for term accuracy) and of the unseen packages, greedy, 64 new tokens, EVAL_BATCH (16)
# at a time, each into printf(OUT_PATTERN, "test"|"unseen") — written whole; a set already scored, or one the corpus
# lacks, is skipped (so a study resumes).
score() {
  local model=$1 corpus=$2 pattern=$3 set out
  shift 3
  for set in test unseen; do
    out=$(printf "$pattern" "$set")
    if [ -f "$out" ] || [ ! -f "$corpus/$set.tsv" ]; then continue; fi
    local g=(); [ "$set" = test ] && g=(--glossary "$corpus/glossary.tsv")
    current eval --model "$model" --test "$corpus/$set.tsv" "${g[@]}" "$@" --max-sentences "${EVAL_SENTENCES:-1000}" \
      --max-new-tokens 64 --batch "${EVAL_BATCH:-16}" --json > "$out.tmp" && mv "$out.tmp" "$out"
  done
}
