#!/usr/bin/env bash
# Downloads the CIFAR-10 binary version (162 MB), checks the MD5 its authors publish, and
# unpacks it to $DATA_DIR/cifar-10-batches-bin (DATA_DIR defaults to <project root>/datasets).
# Config: "format": "cifar10", "path": "datasets/cifar-10-batches-bin"
# Env: DATA_DIR, KEEP_ARCHIVE=1 to keep the .tar.gz after unpacking.
set -euo pipefail

url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
md5="c32a1d4ab5d03f1284b67883e8d87530"
archive="cifar-10-binary.tar.gz"
target="cifar-10-batches-bin"
files=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="${DATA_DIR:-$root/datasets}"
mkdir -p "$data_dir"
cd "$data_dir"
data_dir="$(pwd)"

complete() { for f in "${files[@]}"; do [[ -s "$target/$f" ]] || return 1; done; }
if complete; then
  echo "CIFAR-10 already in $data_dir/$target"
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
echo "CIFAR-10 is in $data_dir/$target"
