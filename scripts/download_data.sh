#!/usr/bin/env bash
# Downloads one of the paper's data sets in its official binary form, checks the MD5 its
# authors publish, and unpacks it under $DATA_DIR (default <project root>/datasets).
#   scripts/download_data.sh cifar10|cifar100|stl10
# Env: DATA_DIR, KEEP_ARCHIVE=1 to keep the .tar.gz after unpacking.
# The configs name the unpacked folder as data.path:
#   cifar10   "format": "cifar10",  "path": "datasets/cifar-10-batches-bin"  (162 MB)
#   cifar100  "format": "cifar100", "path": "datasets/cifar-100-binary"      (161 MB)
#   stl10     "format": "stl10",    "path": "datasets/stl10_binary"          (2.5 GB)
set -euo pipefail

usage() { echo "usage: $0 cifar10|cifar100|stl10" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
case "$1" in
  cifar10)
    title="CIFAR-10"; url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    md5="c32a1d4ab5d03f1284b67883e8d87530"; target="cifar-10-batches-bin"
    files=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin) ;;
  cifar100)
    title="CIFAR-100"; url="https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    md5="03b5dce01913d631647c71ecec9e9cb8"; target="cifar-100-binary"
    files=(train.bin test.bin) ;;
  stl10)
    title="STL-10"; url="http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    md5="91f7769df0f17e558f3565bffb0c7dfb"; target="stl10_binary"
    files=(train_X.bin train_y.bin test_X.bin test_y.bin unlabeled_X.bin) ;;
  *) usage ;;
esac
archive="${url##*/}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="${DATA_DIR:-$root/datasets}"
mkdir -p "$data_dir"
cd "$data_dir"
data_dir="$(pwd)"

complete() { for f in "${files[@]}"; do [[ -s "$target/$f" ]] || return 1; done; }
if complete; then
  echo "$title already in $data_dir/$target"
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
echo "$title is in $data_dir/$target"
