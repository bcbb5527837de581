#!/usr/bin/env bash
# Figure 3 of Miyato et al. 2018: the squared singular values of each of D's layers after
# training (scaled so the largest is 1) for weight clipping, weight normalization and spectral
# normalization, from `sngan inspect --spectra` on each run's last checkpoint. Standard CNN at
# setting C (the official reproduction setting). Writes spectra.csv, spectra_<method>.png and
# spectra.md into --out.
SCRIPT_HELP="Figure 3: singular value spectra of D's layers for WC, WN and SN."
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_common_args spectra "$@"

ITERS=100000
[ "$SCALE" = quick ] && ITERS=${SPECTRA_QUICK_ITERS:-4000}
SPEC_METHODS=(weight_clip weight_norm spectral)

describe_eval_protocol | sed 's/eval:.*/inspect: sngan inspect --spectra on each checkpoints\/latest.safetensors (no sample metric)/'
for m in "${SPEC_METHODS[@]}"; do
  mapfile -t sets < <(method_sets "$m"; echo train.setting=C)
  run_train "$m" "$ITERS" 1 standard_cnn "${sets[@]}"
done
finish_dry_run

CSV=$OUT/spectra.csv
echo "method,layer,rows,cols,index,singular_value,squared,squared_scaled" >"$CSV.tmp"
for m in "${SPEC_METHODS[@]}"; do
  one=$RUNS_DIR/$m/spectra.csv
  "$SNGAN" inspect --checkpoint "$RUNS_DIR/$m/checkpoints/latest.safetensors" --spectra --out "$one" >/dev/null
  tail -n +2 "$one" | sed "s/^/${METHOD_LABEL[$m]},/" >>"$CSV.tmp"
  plot --csv "$one" --x index --y squared_scaled --group layer \
    --title "Figure 3: squared singular values of D's layers, ${METHOD_LABEL[$m]} (max scaled to 1)" \
    --xlabel "index of singular value" --ylabel "squared singular value / max" --out "$OUT/spectra_${METHOD_LABEL[$m]}.png"
done
mv "$CSV.tmp" "$CSV"

# Summary: per method and layer, how many squared singular values exceed 0.1 and 0.01 of the
# largest, and their share of all values (a broad spectrum keeps many).
{
  echo "# Figure 3: singular values of D's weights after training"
  echo
  echo "Dataset $DATASET, scale $SCALE, $(cat "$RUNS_DIR/spectral/finished") generator updates per run, setting C."
  echo "Per layer: the number of squared singular values above 0.1 (and 0.01) of the largest, out of min(rows, cols),"
  echo "and the mean of the scaled squared values (1: a flat spectrum; near 0: one dominant direction)."
  echo
  echo "| method | layer | shape | > 0.1 | > 0.01 | count | mean scaled |"
  echo "|---|---|---|---|---|---|---|"
  awk -F, 'NR > 1 { k = $1 "|" $2; shape[k] = $3 "x" $4; n[k]++; s[k] += $8; if ($8 > 0.1) a[k]++; if ($8 > 0.01) b[k]++;
                    if (!(k in seen)) { seen[k] = 1; order[++c] = k } }
           END { for (i = 1; i <= c; i++) { k = order[i]; split(k, p, "|");
                 printf "| %s | %s | %s | %d | %d | %d | %.3f |\n", p[1], p[2], shape[k], a[k], b[k], n[k], s[k] / n[k] } }' "$CSV"
  echo
  echo "Paper (Figure 3): WC and WN concentrate on a few components; SN keeps a broad spectrum."
  echo
  for m in "${SPEC_METHODS[@]}"; do echo "![${METHOD_LABEL[$m]}](spectra_${METHOD_LABEL[$m]}.png)"; done
} >"$OUT/spectra.md"
echo "wrote $CSV, $OUT/spectra_*.png, $OUT/spectra.md"
