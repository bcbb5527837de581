#!/usr/bin/env bash
# Fuzzes sngan's parsers of hostile input with libFuzzer (clang, ASan, UBSan):
#   fuzz_config      run configs (app/config.cpp)
#   fuzz_checkpoint  safetensors checkpoints (core/io/safetensors.cpp, Trainer::load_state)
#   fuzz_idx         IDX files, plain and gzip (data/idx.cpp)
#   fuzz_cifar       CIFAR-10/100 binary batches (data/cifar.cpp)
#   fuzz_stl10       STL-10 binary files (data/stl10.cpp)
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 600)]
#
# Builds into build-fuzz (env FUZZ_BUILD_DIR), seeds build-fuzz/corpus/<target> with small
# valid inputs made here (configs/*.json; a checkpoint of a tiny `sngan train` run; tiny IDX,
# CIFAR and STL-10 files), runs the targets one after another (one core each; env
# FUZZ_TARGETS picks a subset) and prints executions per second and corpus size per target.
# A crashing input is saved as build-fuzz/artifacts/<target>/crash-<sha1> (reproduce with
# `build-fuzz/tests/fuzz/<target> <file>`); the script exits 1 when any target crashed.
# Corpora persist between runs, so repeated runs continue where the last one stopped. The
# summary gives each target's seconds actually run and the crashes of this run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-600}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
read -r -a targets <<< "${FUZZ_TARGETS:-fuzz_config fuzz_checkpoint fuzz_idx fuzz_cifar fuzz_stl10}"
jobs=$(nproc 2>/dev/null || echo 2)

command -v clang++ > /dev/null || {
  echo "fuzz.sh: clang++ not found; install it with: apt-get install clang libclang-rt-14-dev" >&2
  exit 1
}

# -O1 -g without NDEBUG: debug-only asserts stay on while fuzzing.
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DSNGAN_FUZZ=ON -DSNGAN_SANITIZE=ON \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$jobs" --target "${targets[@]}" sngan

export OMP_NUM_THREADS=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
seeds=$build/seeds
rm -rf "$seeds"
mkdir -p "$seeds"

# ---- seed inputs ----
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
bytes() { head -c "$1" /dev/zero | tr '\0' "\\$(printf %03o "$2")"; }  # N copies of byte B

seed_config() {
  local d=$seeds/fuzz_config
  mkdir -p "$d"
  cp "$root"/configs/*.json "$d"/
  printf '{}' > "$d/empty.json"
  printf '{"data": {"format": "ring8"}}' > "$d/ring.json"
  printf 'train.n_dis=3\n{"data": {"format": "ring8"}}' > "$d/override.txt"  # a --set line first
}

tiny_idx() {  # DIR N: N images of 28x28 (a bright quadrant per label) and labels 0..3
  local dir=$1 n=$2 i
  { printf '\x00\x00\x08\x03'; be32 "$n"; be32 28; be32 28
    for ((i = 0; i < n; i++)); do bytes 392 $((10 + 50 * (i % 4))); bytes 392 220; done
  } > "$dir/train-images-idx3-ubyte"
  { printf '\x00\x00\x08\x01'; be32 "$n"; for ((i = 0; i < n; i++)); do printf "\\x0$((i % 4))"; done
  } > "$dir/train-labels-idx1-ubyte"
}

seed_checkpoint() {
  local d=$seeds/fuzz_checkpoint work=$build/seed_run
  mkdir -p "$d"
  rm -rf "$work"
  mkdir -p "$work/data"
  tiny_idx "$work/data" 16
  # The model of tests/cli/cli_util.h's tiny_config (and of fuzz_checkpoint.cpp's trainer).
  cat > "$work/tiny.json" <<JSON
{"seed": 3, "threads": 1,
 "data": {"format": "idx", "path": "$work/data", "image_size": 16, "channels": 1, "fit": "resize", "prefetch": 0},
 "model": {"architecture": "standard_cnn", "generator": {"base_channels": 16},
           "discriminator": {"conv_channels": [4, 4, 8, 8, 8, 8, 16]}},
 "train": {"setting": "C", "iterations": 2, "batch_size": 8, "ema_decay": 0.9},
 "output": {"log_every": 1, "checkpoint_every": 0, "sample_count": 4}}
JSON
  "$build/sngan" train --config "$work/tiny.json" --out "$work/run" > "$work/train.log" 2>&1 ||
    { cat "$work/train.log"; echo "fuzz.sh: the seed run failed" >&2; exit 1; }
  cp "$work/run/checkpoints/latest.safetensors" "$d/tiny_model.safetensors"
  # Small files without the sngan checksum (as Python's safetensors writes them), so that
  # mutations of the data section are not all stopped by the checksum.
  local h='{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
  { printf "\\x$(printf %02x ${#h})\\x00\\x00\\x00\\x00\\x00\\x00\\x00"; printf '%s' "$h"; bytes 8 63; } > "$d/one_tensor.safetensors"
  h='{"__metadata__":{"iteration":"1","rng.z":"xoshiro256**:0000000000000000000000000000000000000000000000000000000000000001"},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"c":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}'
  { printf "\\x$(printf %02x ${#h})\\x00\\x00\\x00\\x00\\x00\\x00\\x00"; printf '%s' "$h"; bytes 8 0; } > "$d/metadata.safetensors"
}

seed_idx() {
  local d=$seeds/fuzz_idx work=$build/seed_idx
  mkdir -p "$d" "$work"
  { printf '\x00\x00\x00\x08\x03'; be32 2; be32 3; be32 2; bytes 12 7; } > "$d/images"
  { printf '\x01\x00\x00\x08\x01'; be32 3; printf '\x00\x01\x09'; } > "$d/labels"
  tail -c +2 "$d/images" | gzip -9c > "$work/images.gz"
  tail -c +2 "$d/labels" | gzip -9c > "$work/labels.gz"
  { printf '\x00'; cat "$work/images.gz"; } > "$d/images_gz"
  { printf '\x01'; cat "$work/labels.gz"; } > "$d/labels_gz"
}

seed_cifar() {
  local d=$seeds/fuzz_cifar
  mkdir -p "$d"
  { printf '\x00\x03'; bytes 3072 128; } > "$d/cifar10_one"
  { printf '\x00\x09'; bytes 3072 1; printf '\x00'; bytes 3072 2; } > "$d/cifar10_two"
  { printf '\x01\x05\x63'; bytes 3072 200; } > "$d/cifar100_fine"
  { printf '\x03\x13\x00'; bytes 3072 9; } > "$d/cifar100_coarse"
}

seed_stl10() {
  local d=$seeds/fuzz_stl10
  mkdir -p "$d"
  { printf '\x00\x00'; printf 'pixels'; } > "$d/unlabeled_one"
  { printf '\x05\x02'; printf 'abcdef'; printf '\x01\x0a'; } > "$d/labeled_two"
  { printf '\x15\x01'; printf 'xyz'; printf '\x07'; } > "$d/labels_derived"
  { printf '\x02\x00'; bytes 100 1; } > "$d/raw_short"
}

dict() {  # libFuzzer dictionaries: the formats' keywords
  case $1 in
    fuzz_config) printf '%s\n' '"\"data\""' '"\"model\""' '"\"train\""' '"\"output\""' '"\"format\""' \
        '"\"idx\""' '"\"ring8\""' '"\"grid25\""' '"\"cifar100\""' '"\"stl10\""' '"\"folder\""' \
        '"\"architecture\""' '"\"resnet\""' '"\"mlp\""' '"\"standard_cnn\""' '"\"conv_channels\""' \
        '"\"setting\""' '"\"iterations\""' '"\"lr_g\""' '"\"ema_decay\""' '"\"leaky_slope\""' \
        '"\"image_size\""' '"\"toy\""' '"\"seed\""' '"\"path\""' '"1e308"' '"-0"' '"18446744073709551615"' ;;
    fuzz_checkpoint) printf '%s\n' '"\"dtype\""' '"\"F32\""' '"\"shape\""' '"\"data_offsets\""' \
        '"\"__metadata__\""' '"\"sngan_checksum\""' '"\"sngan_format\""' '"\"iteration\""' \
        '"\"rng.z\""' '"\"optimizer_g.step\""' '"xoshiro256**:"' '"18446744073709551615"' ;;
    fuzz_idx) printf '%s\n' '"\x00\x00\x08\x03"' '"\x00\x00\x08\x01"' '"\x1f\x8b\x08\x00"' '"\xff\xff\xff\xff"' ;;
    *) return 1 ;;
  esac
}

# ---- run ----
declare -A seeded=([fuzz_config]=seed_config [fuzz_checkpoint]=seed_checkpoint [fuzz_idx]=seed_idx
                   [fuzz_cifar]=seed_cifar [fuzz_stl10]=seed_stl10)
declare -A max_len=([fuzz_config]=4096 [fuzz_checkpoint]=262144 [fuzz_idx]=4096
                    [fuzz_cifar]=16384 [fuzz_stl10]=4096)
summary=()
crashed=0
for t in "${targets[@]}"; do
  "${seeded[$t]}"
  corpus=$build/corpus/$t artifacts=$build/artifacts/$t log=$build/logs/$t.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  dict_args=()
  if dict "$t" > "$build/$t.dict"; then dict_args=(-dict="$build/$t.dict"); fi
  echo "fuzz.sh: $t for ${secs}s (log: $log)"
  rc=0
  touch "$build/.start_$t"  # artifacts newer than this are this run's
  start=$SECONDS
  "$build/tests/fuzz/$t" "$corpus" "$seeds/$t" "${dict_args[@]}" -max_total_time="$secs" \
    -max_len="${max_len[$t]}" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" > "$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  kib=$(du -sk "$corpus" | cut -f1)
  found=$(find "$artifacts" -type f -newer "$build/.start_$t" | wc -l)
  if [ "$rc" -ne 0 ]; then crashed=1; fi
  summary+=("$(printf '%-16s %6s %12s %8s %8s %7s %8s' "$t" "$((SECONDS - start))" "${execs:-?}" "${rate:-?}" "$files" "$kib" "$found")")
done

echo
printf '%-16s %6s %12s %8s %8s %7s %8s\n' target seconds executions exec/s corpus KiB crashes
printf '%s\n' "${summary[@]}"
if [ "$crashed" -ne 0 ]; then
  echo "fuzz.sh: a target failed; inputs in $build/artifacts/<target>/, logs in $build/logs/" >&2
  exit 1
fi
