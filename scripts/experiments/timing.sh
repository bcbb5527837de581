#!/usr/bin/env bash
# Figure 10 of Miyato et al. 2018: seconds per 100 generator updates of the standard CNN at
# setting A (n_dis 5, batch 64) for D without normalization, with weight norm, with spectral
# norm, and WGAN-GP (gradient penalty), timed with `sngan bench` on synthetic data (the model,
# not the data set, sets the cost, so every --dataset times the 32x32x3 model of the paper).
# quick: 5 timed iterations after 1 warm-up per method; paper: 20 after 3. The median
# iteration is reported. Writes timing.csv, timing.png and timing.md into --out.
SCRIPT_HELP="Figure 10: seconds per 100 generator updates for none, WN, SN and WGAN-GP (sngan bench)."
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_common_args timing "$@"

ITERS=5 WARMUP=1
[ "$SCALE" = paper ] && ITERS=20 WARMUP=3
ITERS=${SNGAN_BENCH_ITERS:-$ITERS}
THREADS=${SNGAN_THREADS:-2}
SNGAN_SEC_PER_GFLOP=${SNGAN_SEC_PER_GFLOP:-0.015}  # the 32x32x3 model, whatever the dataset
# method label config
RUNS=("none:bench_cnn_a_none.json" "WN:bench_cnn_a_weight_norm.json" "SN:bench_cnn_a.json"
      "WGAN-GP:bench_cnn_a_wgan_gp.json")

if [ "$DRY_RUN" = 1 ]; then
  for r in "${RUNS[@]}"; do
    est=$(DATASET=cifar10 estimate_seconds $((ITERS + WARMUP)) 5)
    EST_TOTAL=$((EST_TOTAL + est))
    est_fmt=$(fmt_duration "$est")
    [ "${r%%:*}" = WGAN-GP ] && est_fmt="$est_fmt (x~2 for the penalty's double backward)"
    printf '  bench %-8s sngan bench --config configs/%s --iters %d --warmup %d --threads %d  ~%s\n' \
      "${r%%:*}" "${r#*:}" "$ITERS" "$WARMUP" "$THREADS" "$est_fmt"
  done
  echo "  measure: median ms per generator iteration (n_dis 5, batch 64), x 100 / 1000 = s per 100 G updates"
  finish_dry_run
fi

CSV=$OUT/timing.csv
echo "method,index,sec_per_100_updates,ms_per_iter,min_ms_per_iter,sn_ms_per_iter,threads,iters" >"$CSV.tmp"
i=0
for r in "${RUNS[@]}"; do
  label=${r%%:*} config=${r#*:}
  i=$((i + 1))
  log=$RUNS_DIR/${config%.json}.out
  if [ ! -s "$log" ] || ! grep -q '^RESULT impl=' "$log"; then
    echo "  bench $label ($config): $ITERS iterations"
    "$SNGAN" bench --config "$REPO/configs/$config" --iters "$ITERS" --warmup "$WARMUP" --threads "$THREADS" >"$log.tmp" 2>&1
    mv "$log.tmp" "$log"
  else
    echo "  bench $label: measured before, kept ($log)"
  fi
  ms=$(sed -n 's/^RESULT impl=.* ms_per_iter=\([0-9.]*\).*/\1/p' "$log")
  min=$(sed -n 's/^median .*(min \([0-9.]*\),.*/\1/p' "$log")
  sn=$(sed -n 's/^ *spectral norm \([0-9.]*\) ms.*/\1/p' "$log")
  sec=$(awk -v m="$ms" 'BEGIN { printf "%.2f", m / 10 }')
  echo "$label,$i,$sec,$ms,$min,$sn,$THREADS,$ITERS" >>"$CSV.tmp"
done
mv "$CSV.tmp" "$CSV"

plot --csv "$CSV" --x method --y sec_per_100_updates --bars \
  --title "Figure 10: seconds per 100 generator updates (standard CNN, n_dis 5)" \
  --xlabel method --ylabel "seconds / 100 G updates" --out "$OUT/timing.png"

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo "# Figure 10: computational cost of the discriminator methods"
  echo
  echo "Standard CNN at setting A (n_dis 5, batch 64), synthetic 32x32x3 data, \`sngan bench\` median of"
  echo "$ITERS timed generator iterations after $WARMUP warm-up, $THREADS threads, on $cpu."
  echo
  echo "| method | s / 100 G updates (median) | relative to WN | fastest iteration, ms |"
  echo "|---|---|---|---|"
  wn=$(awk -F, '$1 == "WN" { print $3 }' "$CSV")
  tail -n +2 "$CSV" | while IFS=, read -r m _ sec _ min _ _ _; do
    echo "| $m | $sec | $(awk -v a="$sec" -v b="$wn" 'BEGIN { printf "%.0f%%", 100 * a / b }') | $min |"
  done
  echo
  awk -F, '$1 == "SN" { printf "Spectral norm itself (power iteration and sigma, timed inside D forward): %.1f ms per generator iteration, %.1f%% of SN'"'"'s iteration.\n", $6, 100 * $6 / $4 }' "$CSV"
  echo
  echo "Paper (Figure 10): SN costs about 110-120% of WN and far less than WGAN-GP."
  echo
  echo "![timing](timing.png)"
} >"$OUT/timing.md"
echo "wrote $CSV, $OUT/timing.png, $OUT/timing.md"
