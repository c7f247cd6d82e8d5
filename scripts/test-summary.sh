#!/usr/bin/env bash
# test-summary.sh LOG: one closing line for `make test` from what the suites
# printed: cmocka's per-program summaries and the integration scripts' PASS/FAIL.
set -euo pipefail
log=$1
awk '
  /^\[  PASSED  \] [0-9]+ test\(s\)\./ { passed += $4 }
  /^\[  FAILED  \] [0-9]+ test\(s\), listed below:/ { failed += $4 }
  /^PASS t[0-9]+_[a-z0-9_]+ \(/ { passed++ }
  /^FAIL t[0-9]+_[a-z0-9_]+ \(/ { failed++ }
  END { printf "tests: %d passed, %d failed\n", passed, failed }
' "$log"
