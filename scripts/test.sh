#!/usr/bin/env bash
# The one command that sets sngan up and runs the whole test suite: installs missing Debian
# packages, builds (tests included) and runs every CTest test.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh" -DSNGAN_BUILD_TESTS=ON
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
