#!/usr/bin/env bash
# Downloads the STL-10 binary version (2.5 GB), checks the MD5 its authors publish, and
# unpacks it to $DATA_DIR/stl10_binary (DATA_DIR defaults to <project root>/datasets).
# Config: "format": "stl10", "path": "datasets/stl10_binary"
# Env: DATA_DIR, KEEP_ARCHIVE=1 to keep the .tar.gz after unpacking.
set -euo pipefail

url="http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
md5="91f7769df0f17e558f3565bffb0c7dfb"
archive="stl10_binary.tar.gz"
target="stl10_binary"
files=(train_X.bin train_y.bin test_X.bin test_y.bin unlabeled_X.bin)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="${DATA_DIR:-$root/datasets}"
mkdir -p "$data_dir"
cd "$data_dir"
data_dir="$(pwd)"

complete() { for f in "${files[@]}"; do [[ -s "$target/$f" ]] || return 1; done; }
if complete; then
  echo "STL-10 already in $data_dir/$target"
  exit 0
fi

if ! echo "$md5  $archive" | md5sum --check --status 2>/dev/null; then
  echo "downloading $url to $data_dir/$archive"
  if command -v curl > /dev/null; then
    curl --fail --location --retry 3 --output "$archive.part" "$url"
  else
    wget --output-document="$archive.part" "$url"
  fi
  mv "$archive.part" "$archive"
fi
if ! echo "$md5  $archive" | md5sum --check --status; then
  echo "error: $data_dir/$archive: expected MD5 $md5, got $(md5sum < "$archive" | cut -d' ' -f1); a corrupt or changed download; delete it and run again" >&2
  exit 1
fi

tar -xzf "$archive"
complete || { echo "error: $archive did not unpack to $data_dir/$target/{${files[*]}}" >&2; exit 1; }
[[ "${KEEP_ARCHIVE:-0}" == 1 ]] || rm -f "$archive"
echo "STL-10 is in $data_dir/$target"
