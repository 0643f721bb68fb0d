#!/usr/bin/env bash
# Decode speed of a quality study's student against its teacher (docs/QUALITY.md): batch 1, one kernel thread, best of 5
# rounds of 64 greedy tokens, fp32 / int8 / int4 rows in the same run. Run it on an idle machine.
#   scripts/quality/student-speed.sh TEACHER_DIR STUDENT_DIR
# e.g. runs/quality/std-hyblr/run/teacher-hybrid runs/quality/std-cand/run/student-compressed
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$root/lightglm" bench student-decode --teacher "$1" --student "$2" --formats fp32,int8,int4 --threads 1
