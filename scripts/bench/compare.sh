#!/usr/bin/env bash
# Side-by-side CPU benchmark: sngan vs the PyTorch reference (scripts/bench/torch_reference.py),
# same models, training step, batch 64 and thread count. For each case it alternates
# sngan, torch, sngan, torch ... ROUNDS times and prints medians over the rounds.
#
#   scripts/bench/compare.sh                  # all cases, 2 threads, 3 rounds
#   THREADS=1 ROUNDS=1 CASES=cnn_c scripts/bench/compare.sh
#   DRY_RUN=1 scripts/bench/compare.sh        # the set-up and the runs, nothing run
#
# The baseline is the best PyTorch this machine runs (Debian's python3-torch 1.13):
#   - BLAS: OpenBLAS (libopenblas0-pthread; when it is not installed, its Debian package is
#     unpacked under .cache/openblas, without touching the system) with OPENBLAS_CORETYPE set
#     from the CPU (SkylakeX with AVX-512, Haswell with AVX2): OpenBLAS 0.3.21 does not
#     recognise recent CPUs and otherwise falls back to a generic kernel. Debian's default
#     libblas3 is the unoptimised reference BLAS. An OPENBLAS_CORETYPE in the environment is
#     not passed on (a machine may preset a weaker one; a note says so when it differs):
#     TORCH_OPENBLAS_CORETYPE chooses another.
#   - --deconv phase: ConvTranspose2d as four 2x2 oneDNN convs (torch 1.13's CPU
#     ConvTranspose2d has no oneDNN path).
#   - glibc's malloc told to keep freed memory (GLIBC_TUNABLES=$TORCH_MALLOC): PyTorch
#     allocates each step's tensors afresh, and glibc returns blocks over its mmap threshold to
#     the kernel on free, so every step faults its activations in again. On a 2-core AMD EPYC
#     Zen 5 VM that cost PyTorch about a quarter of the standard CNN's step (cnn_c, 5 iterations:
#     1387-1453 ms as is, 1070-1086 with these tunables, 1112-1189 with tcmalloc, 3845-4557
#     with jemalloc). sngan's tensors come from its own pool, so it is unaffected.
# Stock PyTorch (reference BLAS, native deconv) is timed once per STOCK_CASES case and shown
# as a footnote only.
#
# Cases (sngan reads configs/bench_<case>.json):
#   cnn_c   standard CNN, setting C: Adam 2e-4 (0.5, 0.999), n_dis 1, standard loss
#   cnn_a   standard CNN, setting A: Adam 1e-4 (0.5, 0.9),   n_dis 5, standard loss
#   resnet  ResNet 32x32:            Adam 2e-4 (0, 0.9),     n_dis 5, hinge loss
# Environment: THREADS (2), ROUNDS (3), CASES ("cnn_c cnn_a resnet"), BUILD_DIR (build),
#   ITERS (measured generator iterations; default 10 for n_dis 1, 5 for n_dis 5),
#   PYTHON (/usr/bin/python3: Debian's python3-torch), LOG_DIR (a new temp dir),
#   TORCH_BLAS_DIR (a directory holding the libblas.so.3 for torch; default OpenBLAS's, see
#   above; "system" keeps the system's), TORCH_OPENBLAS_CORETYPE (PyTorch's OpenBLAS core
#   type; default from the CPU, whatever OPENBLAS_CORETYPE the environment holds),
#   TORCH_ARGS (torch_reference.py arguments; default "--deconv phase"),
#   STOCK_CASES (cases also timed with stock PyTorch, one round; default "cnn_c", "" for none),
#   TORCH_MALLOC (the GLIBC_TUNABLES for PyTorch's runs, "" for glibc's defaults),
#   PRECISIONS (sngan's train.precision values to time: default "fp32 bf16" on a CPU with
#   AMX-BF16 tiles or AVX512_BF16, else "fp32"; bf16 elsewhere is emulated, slower than fp32).
#   With bf16, PyTorch is also timed in its own bf16 mode (torch_reference.py --autocast bf16:
#   forward passes under CPU autocast, convs and linears in bf16 on oneDNN), same set-up
#   otherwise.
#   DRY_RUN=1 prints the set-up (PyTorch's environment included) and the commands of the runs,
#   and exits without running, fetching or creating anything.
# Both sides print lines
#   RESULT impl=<sngan|torch> arch=<a> batch=<B> n_dis=<n> threads=<T> ms_per_iter=<x>
#          images_per_s=<x> gflop_per_iter=<x> gflops=<x> peak_rss_mb=<x>      (one line)
# and sngan also `RESULT sgemm_gflops=<g>` (its SGEMM ceiling on this machine),
# `RESULT fma_peak_gflops=<p> ...` (the fp32 FMA peak of THREADS threads, measured) and
# computed_gflops=<x> (the FLOPs it actually ran per second; below gflops where convs run as
# Winograd F(2x2, 3x3) in fp32 or the ResNet blocks fold their resampling into their convs). sn_GFLOPs is the model's FLOPs per second on
# both sides; sgemm_frac and peak_frac are sngan's computed GFLOP/s over the SGEMM ceiling and
# over the FMA peak.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
CASES=${CASES:-"cnn_c cnn_a resnet"}
BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
TORCH_ARGS=${TORCH_ARGS-"--deconv phase"}
STOCK_CASES=${STOCK_CASES-cnn_c}
TORCH_MALLOC=${TORCH_MALLOC-glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=68719476736}
if [[ -z ${PRECISIONS:-} ]]; then
  PRECISIONS=fp32
  grep -qw -e amx_bf16 -e avx512_bf16 /proc/cpuinfo && PRECISIONS="fp32 bf16"
fi
DRY_RUN=${DRY_RUN:-0}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$root/$BUILD_DIR
cd "$root"  # sngan gets configs/bench_<case>.json relative to the repository

die() { echo "compare.sh: $*" >&2; exit 1; }

if [[ $DRY_RUN == 0 ]]; then
  "$PYTHON" -c 'import torch' 2>/dev/null ||
    die "PyTorch not importable by $PYTHON; install it: apt-get install python3-torch"
  [[ -x $BUILD_DIR/sngan ]] || die "no sngan binary at $BUILD_DIR/sngan (build it, or set BUILD_DIR)"
  LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/sngan-bench.XXXXXX)}
  mkdir -p "$LOG_DIR"
  LOG_DIR=$(cd "$LOG_DIR" && pwd)
else
  LOG_DIR=${LOG_DIR:-dry-run}  # named in no command; nothing is written
fi

# case -> torch_reference.py arguments (batch 64 everywhere)
torch_args() {
  case $1 in
    cnn_c)  echo "--arch standard_cnn --n-dis 1 --lr 2e-4 --beta1 0.5 --beta2 0.999 --loss standard" ;;
    cnn_a)  echo "--arch standard_cnn --n-dis 5 --lr 1e-4 --beta1 0.5 --beta2 0.9 --loss standard" ;;
    resnet) echo "--arch resnet --n-dis 5 --lr 2e-4 --beta1 0 --beta2 0.9 --loss hinge" ;;
    *) die "unknown case '$1' (cases: cnn_c cnn_a resnet)" ;;
  esac
}

# Runs a command into a log file; on failure shows the log's tail and stops. (A dry run prints
# the command instead.)
run_logged() {
  local log=$1; shift
  if [[ $DRY_RUN != 0 ]]; then
    echo "  $*"
    return 0
  fi
  if ! "$@" >"$log" 2>&1; then
    echo "FAILED: $*" >&2; tail -n 20 "$log" >&2; exit 1
  fi
}

check_result() { [[ $DRY_RUN != 0 ]] || grep -q "^$2" "$1" || die "no '$2...' line in $1"; }
# Value of key=<v> in the last line of $1 that starts with $2 (empty if none).
field() { { grep "^$2" "$1" || true; } | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
maxval() { sort -g | tail -n 1; }

for c in $CASES $STOCK_CASES; do torch_args "$c" >/dev/null; done  # reject unknown cases up front

# OpenBLAS for torch: the installed one, else Debian's package unpacked under .cache/openblas.
if [[ -z ${TORCH_BLAS_DIR:-} ]]; then
  TORCH_BLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
  if [[ ! -e $TORCH_BLAS_DIR/libblas.so.3 ]]; then
    TORCH_BLAS_DIR=$root/.cache/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread
    if [[ ! -e $TORCH_BLAS_DIR/libblas.so.3 && $DRY_RUN == 0 ]]; then
      echo "unpacking Debian's libopenblas0-pthread into .cache/openblas (for the PyTorch baseline)"
      mkdir -p "$root/.cache/openblas"
      (cd "$root/.cache/openblas" && apt-get download -q libopenblas0-pthread >/dev/null &&
        dpkg -x libopenblas0-pthread_*.deb .) ||
        die "could not fetch libopenblas0-pthread (apt-get download); set TORCH_BLAS_DIR, or TORCH_BLAS_DIR=system"
    fi
  fi
fi
[[ $TORCH_BLAS_DIR == system || -e $TORCH_BLAS_DIR/libblas.so.3 || $DRY_RUN != 0 ]] ||
  die "TORCH_BLAS_DIR=$TORCH_BLAS_DIR holds no libblas.so.3"
# PyTorch's OpenBLAS core type: TORCH_OPENBLAS_CORETYPE, else OpenBLAS 0.3.21's from the CPU's
# instruction sets. The environment's OPENBLAS_CORETYPE is not passed on: a machine may preset
# a weaker one (one such VM presets Haswell on an AVX-512 CPU, where SkylakeX ran PyTorch's
# cnn_c faster: 969.1 against 1085.6 ms, medians of two runs 20 minutes apart).
cpu_coretype=
if grep -qw avx512f /proc/cpuinfo; then cpu_coretype=SkylakeX
elif grep -qw avx2 /proc/cpuinfo; then cpu_coretype=Haswell
fi
torch_coretype=${TORCH_OPENBLAS_CORETYPE:-$cpu_coretype}
coretype_note=
if [[ -n ${OPENBLAS_CORETYPE:-} && $OPENBLAS_CORETYPE != "$torch_coretype" ]]; then
  coretype_note="note: the environment's OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is not used for PyTorch, which gets ${torch_coretype:-the core type OpenBLAS picks} (TORCH_OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE would use it)"
fi
torch_env=(-u OPENBLAS_CORETYPE)
[[ $TORCH_BLAS_DIR != system ]] && torch_env+=("LD_LIBRARY_PATH=$TORCH_BLAS_DIR")
[[ -n $torch_coretype ]] && torch_env+=("OPENBLAS_CORETYPE=$torch_coretype")
# glibc's malloc keeps freed memory instead of returning each large block to the kernel:
# PyTorch allocates every activation afresh, and on a machine where page faults are dear it
# otherwise pays for faulting them in again each step (see TORCH_MALLOC above).
[[ -n $TORCH_MALLOC ]] && torch_env+=("GLIBC_TUNABLES=$TORCH_MALLOC")

echo "CPU: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(nproc) CPUs available"
echo "threads: $THREADS, rounds: $ROUNDS, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ $DRY_RUN == 0 ]]; then
  torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)')
else
  torch_version="(not checked: dry run)"
fi
echo "torch: $torch_version, BLAS: $TORCH_BLAS_DIR, OPENBLAS_CORETYPE=${torch_coretype:-unset}, args: ${TORCH_ARGS:-none}, GLIBC_TUNABLES=${TORCH_MALLOC:-unset}"
[[ -z $coretype_note ]] || echo "$coretype_note"
[[ $DRY_RUN != 0 ]] || echo "logs: $LOG_DIR"

for c in $CASES; do
  targs=$(torch_args "$c")
  ndis=${targs#*--n-dis }; ndis=${ndis%% *}
  iters=${ITERS:-$([[ $ndis == 1 ]] && echo 10 || echo 5)}
  for r in $(seq 1 "$ROUNDS"); do
    for p in $PRECISIONS; do
      log=$LOG_DIR/$c.sngan.$r.log  # fp32; other precisions in $c.sngan_<p>.$r.log
      [[ $p == fp32 ]] || log=$LOG_DIR/$c.sngan_$p.$r.log
      echo "[$c round $r/$ROUNDS] sngan $p ..."
      run_logged "$log" "$BUILD_DIR/sngan" bench --config "configs/bench_$c.json" --iters "$iters" \
        --threads "$THREADS" --set "train.precision=$p"
      check_result "$log" "RESULT impl=sngan "
      check_result "$log" "RESULT sgemm_gflops="
    done
    echo "[$c round $r/$ROUNDS] torch ..."
    # shellcheck disable=SC2086  # targs is a word list on purpose
    run_logged "$LOG_DIR/$c.torch.$r.log" env "${torch_env[@]}" \
      "$PYTHON" "$root/scripts/bench/torch_reference.py" $targs ${TORCH_ARGS:-} --batch 64 \
      --iters "$iters" --threads "$THREADS"
    check_result "$LOG_DIR/$c.torch.$r.log" "RESULT impl=torch "
    if [[ " $PRECISIONS " == *" bf16 "* ]]; then
      echo "[$c round $r/$ROUNDS] torch bf16 (autocast) ..."
      # shellcheck disable=SC2086
      run_logged "$LOG_DIR/$c.torch_bf16.$r.log" env "${torch_env[@]}" \
        "$PYTHON" "$root/scripts/bench/torch_reference.py" $targs ${TORCH_ARGS:-} --batch 64 \
        --iters "$iters" --threads "$THREADS" --autocast bf16
      check_result "$LOG_DIR/$c.torch_bf16.$r.log" "RESULT impl=torch "
    fi
  done
done
for c in $STOCK_CASES; do
  targs=$(torch_args "$c")
  ndis=${targs#*--n-dis }; ndis=${ndis%% *}
  iters=${ITERS:-$([[ $ndis == 1 ]] && echo 10 || echo 5)}
  echo "[$c stock] torch as Debian ships it ..."
  # shellcheck disable=SC2086
  run_logged "$LOG_DIR/$c.stock.1.log" env -u OPENBLAS_CORETYPE -u GLIBC_TUNABLES \
    "$PYTHON" "$root/scripts/bench/torch_reference.py" $targs --batch 64 --iters "$iters" --threads "$THREADS"
  check_result "$LOG_DIR/$c.stock.1.log" "RESULT impl=torch "
done

[[ $DRY_RUN == 0 ]] || exit 0

# agg CASE IMPL KEY REDUCER: reduce KEY over the rounds' RESULT lines (IMPL sgemm: ceiling)
# (IMPL peak: the FMA peak line; IMPL stock: the stock torch run)
agg() {
  local f prefix="RESULT impl=$2 " file=$2
  case $2 in
    sgemm) prefix="RESULT sgemm_gflops="; file=sngan ;;
    peak) prefix="RESULT fma_peak_gflops="; file=sngan ;;
    stock) prefix="RESULT impl=torch " ;;
    sngan_*) prefix="RESULT impl=sngan " ;;
    torch_*) prefix="RESULT impl=torch " ;;
  esac
  for f in "$LOG_DIR/$1.$file".*.log; do [[ -e $f ]] && field "$f" "$prefix" "$3"; done | { grep . || true; } | $4
}

echo
echo "medians over $ROUNDS rounds, $THREADS threads (peak RSS: max over rounds); torch: the best set-up above"
fmt="%-7s %10s %10s %8s %9s %9s %10s %9s %10s %9s %9s\n"
# shellcheck disable=SC2059  # one format for header and rows
printf "$fmt" case sngan_ms torch_ms torch/sn sn_GFLOPs sgemm_GF sgemm_frac fma_peak peak_frac sn_rssMiB pt_rssMiB
for c in $CASES; do
  s_ms=$(agg "$c" sngan ms_per_iter median); t_ms=$(agg "$c" torch ms_per_iter median)
  s_gf=$(agg "$c" sngan gflops median); ceil=$(agg "$c" sgemm sgemm_gflops median)
  peak=$(agg "$c" peak fma_peak_gflops median)
  s_cgf=$(agg "$c" sngan computed_gflops median)  # what sngan computed (Winograd, folded blocks)
  [[ -n $s_cgf && $s_cgf != nan ]] || s_cgf=$s_gf
  s_rss=$(agg "$c" sngan peak_rss_mb maxval); t_rss=$(agg "$c" torch peak_rss_mb maxval)
  s_fl=$(agg "$c" sngan gflop_per_iter median); t_fl=$(agg "$c" torch gflop_per_iter median)
  awk -v c="$c" -v sm="$s_ms" -v tm="$t_ms" -v sg="$s_gf" -v cg="$s_cgf" -v ce="$ceil" -v pk="$peak" \
      -v sr="$s_rss" -v tr="$t_rss" -v fmt="$fmt" 'BEGIN {
    printf fmt, c, sprintf("%.1f", sm), sprintf("%.1f", tm), sprintf("%.2f", tm / sm),
      sprintf("%.1f", sg), sprintf("%.1f", ce), sprintf("%.2f", cg / ce),
      sprintf("%.1f", pk), (pk > 0 ? sprintf("%.2f", cg / pk) : "n/a"),
      sprintf("%.0f", sr), sprintf("%.0f", tr)
    if (cg < 0.99 * sg)
      printf "  %s: sngan computes fewer FLOPs than the model has (Winograd convs; the ResNet folds resampling into its convs): %.1f GFLOP/s computed\n", c, cg }'
  awk -v a="$s_fl" -v b="$t_fl" -v c="$c" 'BEGIN { if (a - b > 0.01 * b || b - a > 0.01 * b)
    printf "  warning: %s FLOP counts differ: sngan %s vs torch %s GFLOP/iter\n", c, a, b }'
  for p in $PRECISIONS; do
    [[ $p == fp32 ]] && continue
    p_ms=$(agg "$c" "sngan_$p" ms_per_iter median); p_rss=$(agg "$c" "sngan_$p" peak_rss_mb maxval)
    tp_ms=$(agg "$c" "torch_$p" ms_per_iter median); tp_rss=$(agg "$c" "torch_$p" peak_rss_mb maxval)
    awk -v c="$c" -v p="$p" -v pm="$p_ms" -v sm="$s_ms" -v tm="$t_ms" -v pr="$p_rss" -v tpm="$tp_ms" -v tpr="$tp_rss" 'BEGIN {
      printf "  %s, sngan train.precision=%s: %.1f ms (fp32/%s %.2f, best torch fp32/sngan %s %.2f), peak RSS %.0f MiB\n",
        c, p, pm, p, sm / pm, p, tm / pm, pr
      if (tpm != "" && tpm != "nan")
        printf "  %s, torch %s autocast: %.1f ms (torch %s/sngan %s %.2f), peak RSS %.0f MiB\n", c, p, tpm, p, p, tpm / pm, tpr }'
  done
  if [[ $c == cnn_c ]]; then
    awk -v s="$s_rss" -v t="$t_rss" 'BEGIN { printf "  peak RSS, standard CNN setting C: " \
      "sngan %.0f MiB, torch %.0f MiB (torch/sngan %.2f)\n", s, t, t / s }'
  fi
done
for c in $STOCK_CASES; do
  st_ms=$(agg "$c" stock ms_per_iter median); s_ms=$(agg "$c" sngan ms_per_iter median)
  awk -v c="$c" -v t="$st_ms" -v s="$s_ms" 'BEGIN {
    printf "footnote: stock PyTorch (Debian'"'"'s reference BLAS, native ConvTranspose2d), %s, one run: %.1f ms", c, t
    if (s != "" && s != "nan" && s > 0) printf " (%.2fx sngan)", t / s
    printf "\n" }'
done
[[ -z $coretype_note ]] || echo "$coretype_note"
