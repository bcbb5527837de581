#!/usr/bin/env bash
# The one command that sets sngan up and runs the whole test suite: installs missing Debian
# packages, builds (tests included) and runs every CTest test; then builds the same suite
# with AddressSanitizer + UndefinedBehaviorSanitizer (-DSNGAN_SANITIZE=ON) into build-asan
# and runs it again there. CI runs both.
# Environment: BUILD_DIR (default build), ASAN_BUILD_DIR (default build-asan),
# SNGAN_SKIP_SANITIZE=1 skips the sanitized pass (quick local runs).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

"$root/scripts/setup.sh" -DSNGAN_BUILD_TESTS=ON
(cd "${BUILD_DIR:-$root/build}" && ctest --output-on-failure -j "$jobs")

if [ "${SNGAN_SKIP_SANITIZE:-0}" = 1 ]; then
  echo "sngan test: sanitized pass skipped (SNGAN_SKIP_SANITIZE=1)"
  exit 0
fi
start=$SECONDS
asan_dir=${ASAN_BUILD_DIR:-$root/build-asan}
BUILD_DIR=$asan_dir "$root/scripts/setup.sh" -DSNGAN_BUILD_TESTS=ON -DSNGAN_SANITIZE=ON
built=$SECONDS
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
(cd "$asan_dir" && ctest --output-on-failure -j "$jobs")
echo "sngan test: sanitized pass (ASan + UBSan) passed: build $((built - start)) s, tests $((SECONDS - built)) s"
