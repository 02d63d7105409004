#!/usr/bin/env bash
# README command 2: set everything up, build, and run the whole test suite.
# Also runs the suite once under AddressSanitizer/UBSan when CI=true or
# TS_SANITIZE_RUN=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium: the browser tests drive the web page headless.
EXTRA_PKGS="chromium" bash scripts/setup.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
if [ "${CI:-}" = "true" ] || [ "${TS_SANITIZE_RUN:-}" = "1" ]; then
  echo "== tests under AddressSanitizer + UBSan"
  BUILD_TYPE=Debug BUILD_DIR=build-asan CMAKE_ARGS="-DTS_SANITIZE=ON" bash scripts/setup.sh
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$(nproc)")
fi
