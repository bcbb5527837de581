#!/usr/bin/env bash
# Installs the Debian packages sngan needs (only those missing), then configures and builds.
# Idempotent: when everything is present it only runs an incremental build.
#   scripts/setup.sh [extra cmake args...]
# Environment: BUILD_DIR (default build), SNGAN_EXTRA_PACKAGES (more apt packages to ensure),
# SNGAN_BUILD_TARGETS (build only these CMake targets, e.g. "sngan"; default: everything).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}

packages=(build-essential cmake pkg-config libeigen3-dev libopencv-dev libcli11-dev
          libspdlog-dev nlohmann-json3-dev libgtest-dev zlib1g-dev dataset-fashion-mnist jq
          libopenmpi-dev openmpi-bin)
# shellcheck disable=SC2206
packages+=(${SNGAN_EXTRA_PACKAGES:-})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "sngan setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
mkdir -p "$build_dir"
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" > "$build_dir/configure.log" 2>&1 ||
  { cat "$build_dir/configure.log"; echo "sngan setup: cmake configure failed" >&2; exit 1; }
# shellcheck disable=SC2206
targets=(${SNGAN_BUILD_TARGETS:-})
cmake --build "$build_dir" -j "$jobs" ${targets[@]:+--target "${targets[@]}"}
