#!/usr/bin/env bash
# Downloads pytorch-fid's FID Inception-v3 weights (the 2015-12-05 TensorFlow Inception graph
# ported to PyTorch, 95.6 MB), checks their SHA-256 and converts them once to
# models/inception_v3_fid.safetensors, which `sngan eval` reads (no Python needed after this).
#   scripts/download_inception.sh
# Env: MODELS_DIR (default <project root>/models), KEEP_PTH=1 to keep the .pth afterwards.
# Offline: copy pt_inception-2015-12-05-6726825d.pth into MODELS_DIR and run this script; it
# checks and converts the file without downloading.
#
# The hash: torch hub's convention puts the first 8 hex digits of a file's SHA-256 in its name
# (-6726825d); the full digest below is the one independent downloads of this file record
# (95,628,359 bytes). The conversion needs PyTorch to unpickle the .pth: this script installs
# Debian's python3-torch with apt when /usr/bin/python3 lacks it, and says so.
set -euo pipefail

url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
file="pt_inception-2015-12-05-6726825d.pth"
sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
prefix="6726825d"
output="inception_v3_fid.safetensors"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models_dir="${MODELS_DIR:-$root/models}"
mkdir -p "$models_dir"
cd "$models_dir"
models_dir="$(pwd)"

if [[ -s "$output" ]]; then
  echo "FID Inception weights already in $models_dir/$output"
  exit 0
fi

digest() { sha256sum "$1" | cut -d' ' -f1; }

if [[ ! -s "$file" ]]; then
  echo "downloading $url to $models_dir/$file"
  ok=0
  if command -v curl > /dev/null; then
    curl --fail --location --retry 3 --output "$file.part" "$url" && ok=1
  elif command -v wget > /dev/null; then
    wget --output-document="$file.part" "$url" && ok=1
  fi
  if [[ $ok != 1 ]]; then
    rm -f "$file.part"
    cat >&2 << EOF
error: could not download $url
  (no internet access, or neither curl nor wget is installed).
  On a machine with access, download that URL and copy the file to
    $models_dir/$file
  then run scripts/download_inception.sh again: it checks and converts the file offline.
EOF
    exit 1
  fi
  mv "$file.part" "$file"
fi

got="$(digest "$file")"
if [[ "$got" != "$sha256" ]]; then
  if [[ "${got:0:8}" != "$prefix" ]]; then
    why="the file name's hash prefix $prefix (torch hub's convention) does not match either"
  else
    why="the prefix $prefix matches but the rest does not"
  fi
  echo "error: $models_dir/$file: expected SHA-256 $sha256, got $got ($why);" \
       "a corrupt, truncated or different file: delete it and run this script again" >&2
  exit 1
fi
echo "SHA-256 of $file checked: $sha256"

python=/usr/bin/python3
if ! "$python" -c "import torch" 2> /dev/null; then
  echo "installing Debian's python3-torch: it is needed once, to read the .pth (sngan itself does not use Python)"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q --no-install-recommends python3-torch ||
    { "${sudo[@]}" apt-get update -q &&
      "${sudo[@]}" apt-get install -y -q --no-install-recommends python3-torch; }
fi

"$python" "$root/scripts/convert_inception.py" "$file" "$output"
[[ "${KEEP_PTH:-0}" == 1 ]] || rm -f "$file"
echo "FID Inception weights are in $models_dir/$output"
