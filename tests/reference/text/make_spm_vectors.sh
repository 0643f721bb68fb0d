#!/bin/bash
# Trains three small SentencePiece models on the corpus with Debian's spm_train and writes their parity vectors
# with python3-sentencepiece (and checks spm_encode agrees on every single-line text). Deterministic given the corpus.
# Usage: tests/reference/text/make_spm_vectors.sh CORPUS_DIR [MODEL...]   (e.g. $LIGHTGLM_CACHE/corpus)
# Trains the named models (default all: unigram bpe identity bpe-nofb; ~11 min on 2 busy cores), keeps the other
# committed ones, and rewrites the vectors of all four.
# Writes tests/LightGlm.Tests/Data/text/spm/{unigram,bpe,identity,bpe-nofb}.model.gz and spm-parity.jsonl.gz.
set -euo pipefail
corpus=${1:?usage: $0 CORPUS_DIR [MODEL...]}
shift
models=("$@"); [ ${#models[@]} -eq 0 ] && models=(unigram bpe identity bpe-nofb)
want() { local m; for m in "${models[@]}"; do [ "$m" = "$1" ] && return 0; done; return 1; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=$repo/tests/LightGlm.Tests/Data/text/spm
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Training text: both sides of the training pairs (one text a line) and the first 20k lines of each man-page corpus.
cut -f1 "$corpus/train.tsv" > "$tmp/train.txt"
cut -f2 "$corpus/train.tsv" >> "$tmp/train.txt"
head -n 20000 "$corpus/mono.en.txt" >> "$tmp/train.txt"
head -n 20000 "$corpus/mono.zh.txt" >> "$tmp/train.txt"
common=(--input="$tmp/train.txt" --input_sentence_size=200000 --shuffle_input_sentence=false --num_threads=2
        --minloglevel=1 --max_sentence_length=8192)
for m in unigram bpe identity bpe-nofb; do
  want "$m" || zcat "$out/$m.model.gz" > "$tmp/$m.model"
done
# 1. Unigram, nmt_nfkc, our translation specials as control symbols, placeholders as user-defined pieces.
want unigram && spm_train "${common[@]}" --model_prefix="$tmp/unigram" --model_type=unigram --vocab_size=8000 \
  --character_coverage=0.9995 --pad_id=0 --unk_id=6 --bos_id=1 --eos_id=2 \
  --pad_piece='<|pad|>' --bos_piece='<|bos|>' --eos_piece='<|eos|>' \
  --control_symbols='<|en2zh|>,<|zh2en|>,<|sep|>' --user_defined_symbols='%s,%d,{0}'
# 2. BPE with byte fallback (nmt_nfkc), split digits.
want bpe && spm_train "${common[@]}" --model_prefix="$tmp/bpe" --model_type=bpe --vocab_size=4000 \
  --character_coverage=0.9995 --byte_fallback=true --split_digits=true
# 3. LLaMA-style: unigram, identity normalisation, whitespace kept, byte fallback.
want identity && spm_train "${common[@]}" --model_prefix="$tmp/identity" --model_type=unigram --vocab_size=2000 \
  --normalization_rule_name=identity --remove_extra_whitespaces=false --byte_fallback=true \
  --character_coverage=0.999
# 4. Small BPE without byte fallback (unknown characters -> <unk>), on the first 6000 texts only.
head -n 6000 "$tmp/train.txt" > "$tmp/small.txt"
want bpe-nofb && spm_train --input="$tmp/small.txt" --minloglevel=1 --model_prefix="$tmp/bpe-nofb" --model_type=bpe \
  --vocab_size=500 --character_coverage=0.98
for m in "${models[@]}"; do gzip -9n < "$tmp/$m.model" > "$out/$m.model.gz"; done
zcat "$repo/tests/LightGlm.Tests/Data/text/hf-parity.jsonl.gz" > "$tmp/texts.jsonl"
/usr/bin/python3 "$here/spm_vectors.py" "$tmp" "$tmp/texts.jsonl" "$tmp/spm-parity.jsonl"
gzip -9n < "$tmp/spm-parity.jsonl" > "$out/spm-parity.jsonl.gz"
ls -l "$out"
