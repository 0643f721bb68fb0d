#!/usr/bin/env bash
# Regenerates every golden file of the PyTorch parity tests (tests/LightGlm.Tests/Golden/).
# Needs Debian's python3-torch (apt-get install python3-torch); the tests themselves do not.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
/usr/bin/python3 "$here/check_ref.py"
/usr/bin/python3 "$here/gen_golden.py" "$here/../LightGlm.Tests/Golden"
du -sh "$here/../LightGlm.Tests/Golden"
