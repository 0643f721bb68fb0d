#!/usr/bin/env bash
# Installs what LightGlm needs on a fresh Debian 12 machine, then restores and builds.
# Idempotent: a second run only rebuilds what changed. Called by ./lightglm (the main job's packages) and by
# scripts/test.sh with --tests (also the test- and benchmark-only ones).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Debian packages the main job needs: OpenBLAS (GEMM), Open MPI (distributed), gettext (catalogs), groff + man-db
# (manual pages), dpkg-dev (package downloads), iproute2 (MPI's interface discovery).
need=(libopenblas0-pthread openmpi-bin libopenmpi-dev gettext groff-base man-db iproute2 dpkg-dev)
# `setup.sh --tests` (scripts/test.sh) also installs what only tests and peer benchmarks use: PyTorch + sentencepiece
# (reference scripts, golden files, `bench --vs-pytorch`), NLTK, Chromium (the report's charts checked in a browser) and
# fonts-noto-cjk (a chart's Chinese labels drawn with glyphs; the report's labels are Latin, so the main job does without).
if [ "${1:-}" = "--tests" ]; then
  need+=(python3-torch python3-sentencepiece sentencepiece python3-nltk chromium fonts-noto-cjk)
fi
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

stamp="$root/.build-stamp"
newest=$(find src tests bench Directory.*.props LightGlm.slnx -newer "$stamp" -type f 2>/dev/null | head -1 || true)
if [ ! -f "$stamp" ] || [ -n "$newest" ]; then
  echo "setup: building LightGlm (Release)..." >&2
  dotnet build "$root/LightGlm.slnx" -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary" >&2
  touch "$stamp"
fi
