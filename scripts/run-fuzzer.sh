#!/usr/bin/env bash
# run-fuzzer.sh SECONDS FUZZER: runs a libFuzzer target for SECONDS with a
# corpus kept under build/, so repeated runs build on earlier finds.
set -euo pipefail
secs=$1 bin=$2
corpus="build/corpus/$(basename "$bin")"
mkdir -p "$corpus"
seeds="tests/fuzz/corpus/$(basename "$bin")"
args=("$corpus")
[ -d "$seeds" ] && args+=("$seeds")
"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=5 "${args[@]}" 2>&1 | grep -E '^(stat::number_of_executed_units|stat::peak_rss|INFO: seed|==|SUMMARY|Done)' || true
exit "${PIPESTATUS[0]}"
