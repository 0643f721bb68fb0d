#!/usr/bin/env bash
# Regenerates every Hugging Face interop golden (tiny checkpoints + golden.json) with the PyTorch
# re-implementations here. Needs Debian's python3-torch and python3-sentencepiece (/usr/bin/python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../../LightGlm.Tests/Golden/hf"
mkdir -p "$out"
cd "$here"
/usr/bin/python3 make_goldens.py "$out"
du -sh "$out"
