#!/usr/bin/env bash
# Runs the kernel tests again without AVX2 and without any hardware intrinsics (scalar/128-bit fallback paths).
# Extra arguments go to `dotnet test` (default filter: the kernel tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" --tests
cd "$root"
filter=(--filter "FullyQualifiedName~LightGlm.Tests.Kernels")
[ "$#" -gt 0 ] && filter=("$@")
for mode in "DOTNET_EnableAVX2=0" "DOTNET_EnableHWIntrinsic=0"; do
  echo "== $mode" >&2
  env "$mode" dotnet test tests/LightGlm.Tests/LightGlm.Tests.csproj -c Release --no-build -nologo "${filter[@]}" 2>&1 | tail -1
done
