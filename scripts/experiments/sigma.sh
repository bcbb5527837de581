#!/usr/bin/env bash
# Figure 9 of Miyato et al. 2018: the spectral norm of each normalized weight W / sigma(W) of
# D over training, where sigma(W) is the one-step power-iteration estimate D computes with. It
# stays near 1 when the estimate tracks the true largest singular value. The exact value comes
# from a full SVD (`sngan inspect --spectra`, largest singular value) of every numbered
# checkpoint (20 over the run); the raw weights' estimate sigma(W) from log.jsonl is drawn too.
# Standard CNN, SN, setting C. Writes sigma.csv, sigma.png, sigma_raw.csv, sigma_raw.png and
# sigma.md into --out.
SCRIPT_HELP="Figure 9: spectral norm of each SN layer's normalized weight over training."
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_common_args sigma "$@"

ITERS=100000
[ "$SCALE" = quick ] && ITERS=${SIGMA_QUICK_ITERS:-4000}
ITERS=${SNGAN_ITERS:-$ITERS}
EVERY=$(( ITERS / 20 > 0 ? ITERS / 20 : 1 ))
echo "  record: exact sigma(W/sigma_est) by SVD at checkpoints every $EVERY updates; raw sigma_est from log.jsonl"
run_train spectral "$ITERS" 1 standard_cnn model.discriminator.normalization=spectral train.setting=C \
  "output.checkpoint_every=$EVERY"
finish_dry_run

RUN=$RUNS_DIR/spectral
CSV=$OUT/sigma.csv
{
  echo "step,layer,sigma"
  for ckpt in "$RUN"/checkpoints/step_*.safetensors; do
    step=$(basename "$ckpt" .safetensors)
    step=$((10#${step#step_}))
    "$SNGAN" inspect --checkpoint "$ckpt" --spectra | awk -F, -v s="$step" 'NR > 1 && $4 == 0 { print s "," $1 "," $5 }'
  done
} >"$CSV"
plot --csv "$CSV" --x step --y sigma --group layer \
  --title "Figure 9: spectral norm of W/sigma(W) of D's SN layers (exact, SVD)" \
  --xlabel "generator update" --ylabel "largest singular value of W_SN" --out "$OUT/sigma.png"

jq -r 'select(.sigma != null) | .step as $s | .sigma | to_entries[] | "\($s),\(.key),\(.value)"' \
  "$RUN/log.jsonl" | { echo "step,layer,sigma_estimate"; cat; } >"$OUT/sigma_raw.csv"
plot --csv "$OUT/sigma_raw.csv" --x step --y sigma_estimate --group layer \
  --title "power-iteration estimate sigma(W) of the raw weights (log.jsonl)" \
  --xlabel "generator update" --ylabel "sigma(W)" --out "$OUT/sigma_raw.png"

summary() {  # CSV column 3 per layer: first, last, min, max, mean over the last half
  awk -F, 'NR > 1 { if (!($2 in n)) order[++c] = $2; n[$2]++; v[$2, n[$2]] = $3 }
           END { for (i = 1; i <= c; i++) { l = order[i]; lo = hi = v[l, 1]; s = 0; k = 0
                   for (j = 1; j <= n[l]; j++) { x = v[l, j]; if (x < lo) lo = x; if (x > hi) hi = x
                     if (j > n[l] / 2) { s += x; k++ } }
                   printf "| %s | %.4f | %.4f | %.4f | %.4f | %.4f |\n", l, v[l, 1], v[l, n[l]], lo, hi, s / k } }' "$1"
}
{
  echo "# Figure 9: spectral norm of the normalized weights during training"
  echo
  echo "Dataset $DATASET, scale $SCALE, $(cat "$RUN/finished") generator updates, setting C; exact values at"
  echo "$(($(wc -l <"$CSV") - 1)) layer-checkpoints (every $EVERY updates)."
  echo
  echo "Largest singular value of W / sigma_est (SVD):"
  echo
  echo "| layer | first | last | min | max | mean over the last half |"
  echo "|---|---|---|---|---|---|"
  summary "$CSV"
  echo
  echo "Paper (Figure 9): it stays near 1 for every layer."
  echo
  echo "![sigma](sigma.png)"
  echo
  echo "The raw weights' power-iteration estimate sigma(W) (what D divides by), from log.jsonl:"
  echo
  echo "| layer | first | last | min | max | mean over the last half |"
  echo "|---|---|---|---|---|---|"
  summary "$OUT/sigma_raw.csv"
  echo
  echo "![sigma raw](sigma_raw.png)"
} >"$OUT/sigma.md"
echo "wrote $CSV, $OUT/sigma.png, $OUT/sigma_raw.csv, $OUT/sigma_raw.png, $OUT/sigma.md"
