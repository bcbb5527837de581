#!/usr/bin/env bash
# Figure 11 of Miyato et al. 2018: the score after a fixed number of generator updates (10k in
# the paper) against the number of D updates per G update, n_dis in {1, 2, 5, 10, 20}, at
# setting D (lr 1e-3, beta1 0.5, beta2 0.9), for SN and WN. Writes ndis.csv, ndis.png and
# ndis.md into --out.
SCRIPT_HELP="Figure 11: the score after a fixed number of G updates against n_dis (setting D)."
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_common_args ndis "$@"

ITERS=10000
[ "$SCALE" = quick ] && ITERS=${NDIS_QUICK_ITERS:-400}
NDIS=(1 2 5 10 20)
read -r -a NDIS_METHODS <<<"${NDIS_METHODS:-spectral weight_norm}"
describe_eval_protocol
ensure_eval_models
for m in "${NDIS_METHODS[@]}"; do
  for n in "${NDIS[@]}"; do
    mapfile -t sets < <(method_sets "$m"; echo train.setting=D; echo "train.n_dis=$n")
    run_train "${m}_ndis$n" "$ITERS" "$n" standard_cnn "${sets[@]}"
    run_eval "${m}_ndis$n"
  done
done
finish_dry_run

CSV=$OUT/ndis.csv
echo "method,n_dis,is,fd" >"$CSV"
for m in "${NDIS_METHODS[@]}"; do
  for n in "${NDIS[@]}"; do
    echo "${METHOD_LABEL[$m]},$n,$(eval_value "${m}_ndis$n" is),$(eval_value "${m}_ndis$n" fd)" >>"$CSV"
  done
done
plot --csv "$CSV" --x n_dis --y is --group method --logx --title "Figure 11: $(is_label) after $ITERS G updates, setting D" \
  --xlabel "n_dis" --ylabel "$(is_label)" --out "$OUT/ndis.png"
plot --csv "$CSV" --x n_dis --y fd --group method --logx --title "$(fd_label) after $ITERS G updates, setting D" \
  --xlabel "n_dis" --ylabel "$(fd_label)" --out "$OUT/ndis_fd.png"
{
  echo "# Figure 11: score against n_dis at setting D"
  echo
  echo "Dataset $DATASET, scale $SCALE, ${SNGAN_ITERS:-$ITERS} generator updates per run."
  describe_eval_protocol
  echo
  echo "| method | n_dis | $(is_label) | $(fd_label) |"
  echo "|---|---|---|---|"
  tail -n +2 "$CSV" | awk -F, '{ printf "| %s | %s | %.3f | %.3f |\n", $1, $2, $3, $4 }'
  echo
  echo "Paper (Figure 11): SN's score is robust to n_dis."
  echo
  echo "![ndis](ndis.png)"
  echo "![ndis fd](ndis_fd.png)"
} >"$OUT/ndis.md"
echo "wrote $CSV, $OUT/ndis.png, $OUT/ndis_fd.png, $OUT/ndis.md"
