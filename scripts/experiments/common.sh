# shellcheck shell=bash
# Shared by the experiment scripts (sourced, not run): options, the methods and settings of
# Miyato et al. 2018 (Sec. 4, Table 1), resumable training runs, evaluation and plotting.
#
# Options of every script:
#   --dataset cifar10|stl10|fashion_mnist   data (default: fashion_mnist at quick scale, cifar10 at paper)
#   --scale paper|quick                     paper: the paper's data, iterations and sample protocol;
#                                           quick: Fashion-MNIST, classifier features, short runs
#   --out DIR                               results directory (default results/NAME)
#   --dry-run                               list the runs, their protocol and estimated time; run nothing
# Environment:
#   SNGAN                 the sngan binary (default build/sngan)
#   SNGAN_CLASSIFIER      classifier features for quick scale (default models/classifier_fashion_mnist.safetensors,
#                         made with `sngan classifier train` when missing)
#   SNGAN_REFERENCE       reference statistics (default models/<dataset>_<features>_stats.safetensors,
#                         made with `sngan stats` when missing)
#   SNGAN_INCEPTION       FID Inception weights for paper scale (default models/inception_v3_fid.safetensors)
#   SNGAN_ITERS           override every run's generator iterations (smoke runs; not the quick scale)
#   SNGAN_EVAL_N          override the number of generated samples evaluated
#   SNGAN_SEC_PER_GFLOP   dry-run time estimate: seconds per GFLOP of training (default from a
#                         measurement on a 2-core Xeon, see README)
set -euo pipefail

EXP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$EXP_DIR/../.." && pwd)
SNGAN=${SNGAN:-$REPO/build/sngan}

# The paper's Adam settings (Sec. 4, Table 1): lr beta1 beta2 n_dis.
declare -A SETTING=([A]="1e-4 0.5 0.9 5" [B]="1e-4 0.5 0.999 1" [C]="2e-4 0.5 0.999 1"
                    [D]="1e-3 0.5 0.9 5" [E]="1e-3 0.5 0.999 5" [F]="1e-3 0.9 0.999 5")
# shellcheck disable=SC2034  # used by the scripts that source this file
SETTINGS=(A B C D E F)
# The discriminator methods of Figures 1-2 (Sec. 4), as config overrides.
# shellcheck disable=SC2034
METHODS=(weight_clip gan_gp wgan_gp batch_norm layer_norm weight_norm orthonormal spectral)
# shellcheck disable=SC2034
declare -A METHOD_LABEL=([weight_clip]="WC" [gan_gp]="GAN-GP" [wgan_gp]="WGAN-GP" [batch_norm]="BN"
                         [layer_norm]="LN" [weight_norm]="WN" [orthonormal]="Orthonormal" [spectral]="SN"
                         [none]="none" [spectral_hinge]="SN hinge" [spectral_resnet]="SN ResNet hinge")

usage_common() {
  cat <<USAGE
usage: $SCRIPT_NAME [--dataset cifar10|stl10|fashion_mnist] [--scale paper|quick] [--out DIR] [--dry-run]
$SCRIPT_HELP
USAGE
}

# parse_common_args NAME "$@": sets DATASET SCALE OUT DRY_RUN RUNS_DIR.
parse_common_args() {
  SCRIPT_NAME=$1
  shift
  DATASET="" SCALE=quick OUT="" DRY_RUN=0
  while [ $# -gt 0 ]; do
    case $1 in
      --dataset) DATASET=${2:?--dataset needs a value}; shift 2 ;;
      --scale) SCALE=${2:?--scale needs a value}; shift 2 ;;
      --out) OUT=${2:?--out needs a value}; shift 2 ;;
      --dry-run) DRY_RUN=1; shift ;;
      -h|--help) usage_common; exit 0 ;;
      *) echo "$SCRIPT_NAME: unknown option '$1'" >&2; usage_common >&2; exit 2 ;;
    esac
  done
  case $SCALE in paper|quick) ;; *) echo "$SCRIPT_NAME: --scale: expected paper or quick, got '$SCALE'" >&2; exit 2 ;; esac
  if [ -z "$DATASET" ]; then
    if [ "$SCALE" = quick ]; then DATASET=fashion_mnist; else DATASET=cifar10; fi
  fi
  case $DATASET in cifar10|stl10|fashion_mnist) ;;
    *) echo "$SCRIPT_NAME: --dataset: expected cifar10, stl10 or fashion_mnist, got '$DATASET'" >&2; exit 2 ;;
  esac
  OUT=${OUT:-results/$SCRIPT_NAME}
  RUNS_DIR=$OUT/runs
  EST_TOTAL=0
  if [ "$DRY_RUN" = 0 ]; then
    [ -x "$SNGAN" ] || { echo "$SCRIPT_NAME: no sngan binary at $SNGAN (build it, or set SNGAN)" >&2; exit 2; }
    mkdir -p "$RUNS_DIR"
  fi
  echo "== $SCRIPT_NAME: dataset $DATASET, scale $SCALE, results in $OUT$([ "$DRY_RUN" = 1 ] && echo ' (dry run)')"
}

# The base run config of the dataset and architecture (standard_cnn | resnet).
base_config() {
  local arch=${1:-standard_cnn}
  case $DATASET/$arch in
    cifar10/standard_cnn) echo "$REPO/configs/cifar.json" ;;
    cifar10/resnet) echo "$REPO/configs/cifar_resnet.json" ;;
    stl10/standard_cnn) echo "$REPO/configs/stl10.json" ;;
    stl10/resnet) echo "$REPO/configs/stl10_resnet.json" ;;
    fashion_mnist/*) echo "$REPO/configs/fashion_mnist_paper.json" ;;
  esac
}

# method_sets METHOD: the --set overrides of a discriminator method, one per line.
method_sets() {
  case $1 in
    spectral) echo model.discriminator.normalization=spectral ;;
    none) echo model.discriminator.normalization=none ;;
    weight_clip) printf '%s\n' model.discriminator.normalization=weight_clip model.discriminator.clip_value=0.01 ;;
    weight_norm|batch_norm|layer_norm) echo "model.discriminator.normalization=$1" ;;
    orthonormal) printf '%s\n' model.discriminator.normalization=orthonormal model.discriminator.orthonormal_penalty=0.0001 ;;
    gan_gp) printf '%s\n' model.discriminator.normalization=none train.gradient_penalty=10 ;;
    wgan_gp) printf '%s\n' model.discriminator.normalization=none train.loss=wasserstein train.gradient_penalty=10 ;;
    spectral_hinge) printf '%s\n' model.discriminator.normalization=spectral train.loss=hinge ;;
    *) echo "unknown method $1" >&2; return 1 ;;
  esac
}

setting_ndis() { local s; read -r _ _ _ s <<<"${SETTING[$1]}"; echo "$s"; }

# Estimated seconds of N generator iterations at n_dis D steps each, from the model's FLOPs
# (the standard CNN at 32x32x3: about 179 GFLOP per iteration at n_dis 1 and 97 per extra D
# step, as `sngan train --dry-run` counts; configs/fashion_mnist_paper.json's smaller model about
# 1/17 of that (10.4 GFLOP at n_dis 1); ResNet taken as 3x (measured 2.9x for the 32-wide Fashion-MNIST one), STL-10's 48x48 as 2.25x) and a
# rate: SNGAN_SEC_PER_GFLOP, by default as measured on a shared 2-core Xeon: 0.03 s for the
# Fashion-MNIST model (0.32 s per 10.4 GFLOP iteration), 0.015 s for the 32x32x3 one
# (`sngan bench`, about 8 s per 549 GFLOP iteration at n_dis 5). Evaluation is not included.
sec_per_gflop() {
  if [ -n "${SNGAN_SEC_PER_GFLOP:-}" ]; then echo "$SNGAN_SEC_PER_GFLOP"
  elif [ "$DATASET" = fashion_mnist ]; then echo 0.03
  else echo 0.015; fi
}
estimate_seconds() {
  local iters=$1 ndis=$2 arch=${3:-standard_cnn}
  awk -v i="$iters" -v n="$ndis" -v a="$arch" -v d="$DATASET" -v r="$(sec_per_gflop)" 'BEGIN {
    g = 82 + 97 * n; if (a == "resnet") g *= 3; if (d == "stl10") g *= 2.25; if (d == "fashion_mnist") g /= 17;
    printf "%d", i * g * r }'
}

fmt_duration() { awk -v s="$1" 'BEGIN { if (s >= 3600) printf "%.1f h", s / 3600; else printf "%.0f min", s / 60 }'; }

# run_train NAME ITERS NDIS ARCH [--set k=v ...]: trains into RUNS_DIR/NAME unless finished;
# resumes an interrupted run. ITERS is replaced by SNGAN_ITERS when set.
run_train() {
  local name=$1 iters=$2 ndis=$3 arch=$4
  shift 4
  iters=${SNGAN_ITERS:-$iters}
  local dir=$RUNS_DIR/$name config
  config=$(base_config "$arch")
  local sets=()
  while [ $# -gt 0 ]; do sets+=(--set "$1"); shift; done
  sets+=(--set "train.iterations=$iters")
  if [ "$DRY_RUN" = 1 ]; then
    local est
    est=$(estimate_seconds "$iters" "$ndis" "$arch")
    EST_TOTAL=$((EST_TOTAL + est))
    printf '  train %-28s %7d G updates, n_dis %2d  ~%s\n' "$name" "$iters" "$ndis" "$(fmt_duration "$est")"
    printf '        sngan train --config %s --out %s %s\n' "${config#"$REPO"/}" "$dir" "${sets[*]}"
    return 0
  fi
  if [ -f "$dir/finished" ] && [ "$(cat "$dir/finished")" = "$iters" ]; then
    echo "  $name: finished ($iters iterations), skipped"
    return 0
  fi
  local start=$SECONDS
  if [ -f "$dir/config.json" ] && [ -d "$dir/checkpoints" ]; then
    echo "  $name: resuming"
    "$SNGAN" train --resume --out "$dir" --set "train.iterations=$iters" >>"$dir/train.out" 2>&1
  else
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "  $name: training $iters iterations"
    "$SNGAN" train --config "$config" --out "$dir" "${sets[@]}" >"$dir/train.out" 2>&1
  fi
  echo "$iters" >"$dir/finished"
  echo "  $name: done in $((SECONDS - start)) s"
}

# Evaluation protocol of the scale: quick: N generated samples (default 2000) in the Fashion-MNIST
# classifier's feature space, FD and IS (10 splits) against the train-set statistics; paper:
# IS over 10 x 5000 samples and FID of 5000 samples against 10000 real images, with the FID
# Inception weights (Sec. 4 and Appendix B.1).
describe_eval_protocol() {
  if [ "$SCALE" = quick ]; then
    echo "  eval: ${SNGAN_EVAL_N:-2000} samples per run, classifier features ($(repo_relative "$(features_file)")): FD (vs $(repo_relative "$(reference_file)")) and IS (10 splits)"
  else
    echo "  eval: IS over 10 x 5000 generated samples; FID of 5000 generated vs 10000 real images; Inception features ($(repo_relative "$(features_file)"))"
  fi
}

# A path inside the repository as relative to it (reports do not name this machine's checkout).
repo_relative() { echo "${1#"$REPO"/}"; }

features_file() {
  if [ "$SCALE" = quick ]; then echo "${SNGAN_CLASSIFIER:-$REPO/models/classifier_fashion_mnist.safetensors}"
  else echo "${SNGAN_INCEPTION:-$REPO/models/inception_v3_fid.safetensors}"; fi
}
reference_file() {
  local kind=classifier
  [ "$SCALE" = paper ] && kind=inception10k
  echo "${SNGAN_REFERENCE:-$REPO/models/${DATASET}_${kind}_stats.safetensors}"
}

# Makes the feature network and the reference statistics when missing.
ensure_eval_models() {
  [ "$DRY_RUN" = 1 ] && return 0
  local features reference
  features=$(features_file)
  reference=$(reference_file)
  mkdir -p "$(dirname "$features")" "$(dirname "$reference")"
  if [ ! -f "$features" ]; then
    if [ "$SCALE" = quick ]; then
      echo "  training the classifier features -> $features"
      "$SNGAN" classifier train --config "$REPO/configs/classifier_fashion_mnist.json" --out "$features"
    else
      echo "missing $features: run scripts/download_inception.sh (see README)" >&2
      exit 2
    fi
  fi
  if [ ! -f "$reference" ]; then
    local n=0
    [ "$SCALE" = paper ] && n=10000
    echo "  reference statistics -> $reference"
    "$SNGAN" stats --config "$(base_config)" --features "$features" --n "$n" --out "$reference"
  fi
}

# run_eval NAME: scores RUNS_DIR/NAME's latest checkpoint into RUNS_DIR/NAME/eval.json (once per
# final iteration).
run_eval() {
  local name=$1 dir=$RUNS_DIR/$1
  [ "$DRY_RUN" = 1 ] && return 0
  # Scored before at the run's final iteration: kept (a resumed, longer run is scored again).
  if [ -f "$dir/eval.json" ] && [ "$(jq -r '.iteration' "$dir/eval.json")" = "$(cat "$dir/finished")" ]; then
    return 0
  fi
  local ckpt=$dir/checkpoints/latest.safetensors features reference
  features=$(features_file)
  reference=$(reference_file)
  if [ "$SCALE" = quick ]; then
    "$SNGAN" eval --checkpoint "$ckpt" --reference "$reference" --features "$features" \
      --n "${SNGAN_EVAL_N:-2000}" --metrics fd,is --out "$dir/eval.json" >"$dir/eval.out" 2>&1
  else
    "$SNGAN" eval --checkpoint "$ckpt" --reference "$reference" --features "$features" \
      --n "${SNGAN_EVAL_N:-50000}" --metrics is --out "$dir/eval_is.json" >"$dir/eval.out" 2>&1
    "$SNGAN" eval --checkpoint "$ckpt" --reference "$reference" --features "$features" \
      --n 5000 --metrics fd --out "$dir/eval_fd.json" >>"$dir/eval.out" 2>&1
    jq -s '{iteration: .[0].iteration, metrics: {is: .[0].metrics.is, fd: .[1].metrics.fd}}' "$dir/eval_is.json" "$dir/eval_fd.json" >"$dir/eval.json"
  fi
}

# eval_value NAME fd|is: the number from RUNS_DIR/NAME/eval.json ("nan" when missing).
eval_value() {
  local file=$RUNS_DIR/$1/eval.json
  if [ ! -f "$file" ]; then echo nan; return 0; fi
  case $2 in
    fd) jq -r '.metrics.fd // "nan"' "$file" ;;
    is) jq -r '.metrics.is.mean // "nan"' "$file" ;;
  esac
}

# plot ARGS...: sngan plot (skipped in a dry run).
plot() {
  [ "$DRY_RUN" = 1 ] && return 0
  "$SNGAN" plot "$@" >/dev/null
}

finish_dry_run() {
  [ "$DRY_RUN" = 1 ] || return 0
  echo "  estimated total: $(fmt_duration "$EST_TOTAL") of training at $(sec_per_gflop) s per GFLOP (set SNGAN_SEC_PER_GFLOP), evaluation not included"
  exit 0
}

fd_label() { if [ "$SCALE" = quick ]; then echo "FD (classifier)"; else echo FID; fi; }
is_label() { if [ "$SCALE" = quick ]; then echo "IS (classifier)"; else echo "Inception score"; fi; }
