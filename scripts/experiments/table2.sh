#!/usr/bin/env bash
# Table 2 of Miyato et al. 2018: each method at its best setting with the standard CNN, SN with
# the hinge loss, and the SN ResNet with the hinge loss (the official CIFAR config: 50k updates,
# n_dis 5, lr 2e-4 decaying linearly, beta1 0, beta2 0.9, 128 samples in G's step), scored
# with the paper's protocol, beside the paper's values.
# The setting of each method: the best FID/FD of settings.sh's CSV when one exists for this
# dataset and scale (SETTINGS_CSV, default results/settings/settings.csv), else GAN-GP and
# WGAN-GP at A and the others at C (the official reproduction setting).
# Writes table2.csv, table2.png and table2.md into --out.
SCRIPT_HELP="Table 2: each method at its best setting, standard CNN and ResNet, beside the paper's values."
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_common_args table2 "$@"

ITERS=100000 RESNET_ITERS=50000
if [ "$SCALE" = quick ]; then ITERS=${TABLE2_QUICK_ITERS:-1000} RESNET_ITERS=${TABLE2_QUICK_RESNET_ITERS:-300}; fi
SETTINGS_CSV=${SETTINGS_CSV:-results/settings/settings.csv}

# The paper's Table 2: IS and FID, CIFAR-10 then STL-10 ("-": not reported).
declare -A PAPER=([weight_clip]="6.41 42.6 7.57 64.2" [gan_gp]="6.93 37.7 - -" [wgan_gp]="6.68 40.2 8.42 55.1"
                  [batch_norm]="6.27 56.3 - -" [layer_norm]="7.19 33.9 7.61 75.6" [weight_norm]="6.84 34.7 7.16 73.4"
                  [orthonormal]="7.40 29.0 8.56 46.7" [spectral]="7.42 29.3 8.28 53.1" [spectral_hinge]="7.58 25.5 - -"
                  [spectral_resnet]="8.22 21.7 9.10 40.1")

best_setting() {
  local m=$1 label=${METHOD_LABEL[$1]}
  if [ -f "$SETTINGS_CSV" ]; then
    local best
    best=$(awk -F, -v l="$label" 'NR > 1 && $1 == l && $5 != "nan" { if (b == "" || $5 < v) { v = $5; b = $2 } } END { print b }' "$SETTINGS_CSV")
    if [ -n "$best" ]; then echo "$best"; return 0; fi
  fi
  case $m in gan_gp|wgan_gp) echo A ;; *) echo C ;; esac
}

describe_eval_protocol
[ -f "$SETTINGS_CSV" ] && echo "  settings: best FD per method from $SETTINGS_CSV" || echo "  settings: GAN-GP/WGAN-GP at A, the others at C (no $SETTINGS_CSV)"
ensure_eval_models
ROWS=("${METHODS[@]}" spectral_hinge)
declare -A ROW_SETTING=()
for m in "${ROWS[@]}"; do
  s=C
  [ "$m" != spectral_hinge ] && s=$(best_setting "$m")
  ROW_SETTING[$m]=$s
  mapfile -t sets < <(method_sets "$m"; echo "train.setting=$s")
  run_train "$m" "$ITERS" "$(setting_ndis "$s")" standard_cnn "${sets[@]}"
  run_eval "$m"
done
ROW_SETTING[spectral_resnet]="official"
if [ "$DATASET" = fashion_mnist ]; then
  # The CIFAR ResNet's training recipe on the quick data (1 channel, 32x32), 32 channels wide.
  run_train spectral_resnet "$RESNET_ITERS" 5 resnet model.architecture=resnet model.generator.base_channels=32 \
    model.discriminator.base_channels=32 \
    train.loss=hinge train.n_dis=5 train.lr=0.0002 train.beta1=0 train.beta2=0.9 \
    train.g_batch_size=128 train.lr_decay=linear
else
  run_train spectral_resnet "$RESNET_ITERS" 5 resnet
fi
run_eval spectral_resnet
ROWS+=(spectral_resnet)
finish_dry_run

CSV=$OUT/table2.csv
col=1
[ "$DATASET" = stl10 ] && col=3
echo "method,index,setting,is,fd,paper_is,paper_fd" >"$CSV"
i=0
for m in "${ROWS[@]}"; do
  i=$((i + 1))
  read -r -a p <<<"${PAPER[$m]}"
  echo "${METHOD_LABEL[$m]},$i,${ROW_SETTING[$m]},$(eval_value "$m" is),$(eval_value "$m" fd),${p[$((col - 1))]},${p[$col]}" >>"$CSV"
done
plot --csv "$CSV" --x method --y fd --bars --title "Table 2: $(fd_label) per method (lower is better)" \
  --xlabel "method, at its setting (table2.md)" --ylabel "$(fd_label)" --out "$OUT/table2.png" --width 1000
{
  echo "# Table 2: each method at its setting"
  echo
  echo "Dataset $DATASET, scale $SCALE: $(cat "$RUNS_DIR/spectral/finished") generator updates (ResNet $(cat "$RUNS_DIR/spectral_resnet/finished"))."
  describe_eval_protocol
  [ "$SCALE" = quick ] && echo "Quick scale: Fashion-MNIST in a classifier's features; not comparable in value with the paper's CIFAR-10 Inception numbers, only in ranking."
  echo
  echo "| method | setting | $(is_label) | $(fd_label) | paper IS ($([ "$DATASET" = stl10 ] && echo STL-10 || echo CIFAR-10)) | paper FID |"
  echo "|---|---|---|---|---|---|"
  tail -n +2 "$CSV" | awk -F, '{ printf "| %s | %s | %.3f | %.3f | %s | %s |\n", $1, $3, $4, $5, $6, $7 }'
  echo
  echo "![table2](table2.png)"
} >"$OUT/table2.md"
echo "wrote $CSV, $OUT/table2.png, $OUT/table2.md"
