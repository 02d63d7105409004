#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60), two at a time. New coverage goes to a scratch corpus under
# build-fuzz/corpus/<target>; crashes are written to build-fuzz/crashes/ —
# once fixed, copy each crashing input into tests/fuzz/corpus/<target>/ so the
# regular suite replays it (fuzz_regression_test).
# FUZZ_FLAGS adds libFuzzer flags (e.g. "-timeout=5 -report_slow_units=1").
#   usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(auto mbox hn_json algolia bigquery pushshift thread_page text query hn_params stored_item)
command -v clang++ >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev; }
CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTS_FUZZ=ON >/dev/null
cmake --build build-fuzz -j2 --target $(printf 'fuzz_%s ' "${TARGETS[@]}")
mkdir -p build-fuzz/crashes
run_one() {
  local t="$1" seed="${1//_/-}"
  mkdir -p "build-fuzz/corpus/$t"
  "build-fuzz/tests/fuzz_$t" -max_total_time="$SECS" -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix="build-fuzz/crashes/$t-" -print_final_stats=1 \
    ${FUZZ_FLAGS:-} \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$seed" > "build-fuzz/$t.log" 2>&1 || true
  echo "$t: $(grep -E 'stat::number_of_executed_units' "build-fuzz/$t.log" | awk '{print $2}') execs," \
       "$(grep -oE 'cov: [0-9]+' "build-fuzz/$t.log" | tail -1)," \
       "$(ls build-fuzz/crashes | grep -c "^$t-" || true) crash(es)"
}
export -f run_one
export SECS FUZZ_FLAGS
printf '%s\n' "${TARGETS[@]}" | xargs -P 2 -I{} bash -c 'run_one {}'
