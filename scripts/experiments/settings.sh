#!/usr/bin/env bash
# Figures 1-2 of Miyato et al. 2018: every discriminator method (WC, GAN-GP, WGAN-GP, BN, LN,
# WN, orthonormal, SN) under each Adam setting A-F (Table 1), standard CNN; IS and FID (FD in
# the classifier's features at quick scale) of each cell. Writes settings.csv,
# settings_is.png, settings_fd.png and settings.md into --out.
SCRIPT_HELP="Figures 1-2: every method x settings A-F, IS and FID per cell."
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_common_args settings "$@"

ITERS=100000
[ "$SCALE" = quick ] && ITERS=${SETTINGS_QUICK_ITERS:-150}
describe_eval_protocol
ensure_eval_models
for m in "${METHODS[@]}"; do
  for s in "${SETTINGS[@]}"; do
    mapfile -t sets < <(method_sets "$m"; echo "train.setting=$s")
    run_train "${m}_$s" "$ITERS" "$(setting_ndis "$s")" standard_cnn "${sets[@]}"
    run_eval "${m}_$s"
  done
done
finish_dry_run

CSV=$OUT/settings.csv
echo "method,setting,setting_index,is,fd" >"$CSV.tmp"
for m in "${METHODS[@]}"; do
  i=0
  for s in "${SETTINGS[@]}"; do
    i=$((i + 1))
    echo "${METHOD_LABEL[$m]},$s,$i,$(eval_value "${m}_$s" is),$(eval_value "${m}_$s" fd)" >>"$CSV.tmp"
  done
done
mv "$CSV.tmp" "$CSV"
plot --csv "$CSV" --x setting --y is --group method --bars --title "Figure 1: $(is_label) per setting" \
  --xlabel "setting (Table 1)" --ylabel "$(is_label)" --out "$OUT/settings_is.png" --width 1000
plot --csv "$CSV" --x setting --y fd --group method --bars --title "Figure 2: $(fd_label) per setting (lower is better)" \
  --xlabel "setting (Table 1)" --ylabel "$(fd_label)" --out "$OUT/settings_fd.png" --width 1000

table() {  # column 4 (is) or 5 (fd) as a method x setting table
  echo "| method | A | B | C | D | E | F | mean A-C | mean D-F |"
  echo "|---|---|---|---|---|---|---|---|---|"
  awk -F, -v c="$1" 'NR > 1 { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } v[$1, $3] = $c }
    END { for (i = 1; i <= n; i++) { m = order[i]; line = "| " m; a = b = 0
            for (j = 1; j <= 6; j++) { line = line " | " sprintf("%.3f", v[m, j]); if (j <= 3) a += v[m, j]; else b += v[m, j] }
            printf "%s | %.3f | %.3f |\n", line, a / 3, b / 3 } }' "$CSV"
}
{
  echo "# Figures 1-2: methods x Adam settings"
  echo
  echo "Dataset $DATASET, scale $SCALE, $(cat "$RUNS_DIR/spectral_C/finished") generator updates per run."
  describe_eval_protocol
  echo
  echo "## $(is_label) (higher is better)"
  echo
  table 4
  echo
  echo "## $(fd_label) (lower is better)"
  echo
  table 5
  echo
  echo "Paper (Figures 1-2): SN stays good at the aggressive settings D-F, where most others degrade."
  echo
  echo "![IS](settings_is.png)"
  echo "![FD](settings_fd.png)"
} >"$OUT/settings.md"
echo "wrote $CSV, $OUT/settings_is.png, $OUT/settings_fd.png, $OUT/settings.md"
