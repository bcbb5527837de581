#!/usr/bin/env bash
# bf16 against fp32 on the Fashion-MNIST default run (configs/fashion_mnist.json): trains the
# default in each precision (`train.precision`) at each seed, one thread per run with the two
# precisions of a seed side by side, scores the EMA generator with `sngan eval` (FD, KID, IS and
# precision/recall over 10k samples in the Fashion-MNIST classifier's feature space, against the
# train split) and writes a table with the mean FD of each precision.
#
#   scripts/experiments/bf16.sh [--out DIR] [--seeds "0 1 2"] [--dry-run]
#
# Resumable: a finished run (its `done` file) is skipped, an interrupted one resumes with
# `sngan train --resume`, a scored one is not scored again. The classifier
# (models/classifier_fashion_mnist.safetensors) and the train split's statistics
# (models/fashion_mnist_train.safetensors) are made when missing (SNGAN_FEATURES and
# SNGAN_REFERENCE override the paths). bf16 is fast with AMX-BF16 or AVX512_BF16, emulated
# (slower than fp32) elsewhere. Output: DIR/s<seed>_<precision>/ (run, time.txt, eval.json),
# DIR/results.csv, DIR/results.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

out=results/bf16
seeds="0 1 2"
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --seeds) seeds=${2:?--seeds needs a value}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bf16.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
sngan=${SNGAN:-build/sngan}
features=${SNGAN_FEATURES:-models/classifier_fashion_mnist.safetensors}
reference=${SNGAN_REFERENCE:-models/fashion_mnist_train.safetensors}
config=configs/fashion_mnist.json

if [ "$dry_run" = 1 ]; then
  for s in $seeds; do
    for p in fp32 bf16; do
      echo "$sngan train --config $config --out $out/s${s}_$p --set threads=1 --set seed=$s --set train.precision=$p"
    done
  done
  exit 0
fi
[ -x "$sngan" ] || { echo "bf16.sh: no sngan binary at $sngan (build it, or set SNGAN)" >&2; exit 2; }
mkdir -p "$out" "$(dirname "$features")" "$(dirname "$reference")"
if [ ! -f "$features" ]; then
  echo "== classifier: $features"
  "$sngan" classifier train --config configs/classifier_fashion_mnist.json --out "$features"
fi
if [ ! -f "$reference" ]; then
  echo "== reference statistics: $reference"
  "$sngan" stats --config "$config" --features "$features" --out "$reference"
fi

# Trains (or resumes) one run to the end; its log and /usr/bin/time report land in the run.
train() {
  local seed=$1 precision=$2 run=$out/s$1_$2
  [ -f "$run/done" ] && return 0
  local args=(--config "$config" --out "$run" --set threads=1 --set "seed=$seed" --set "train.precision=$precision")
  [ -f "$run/config.json" ] && args+=(--resume)
  mkdir -p "$run"
  /usr/bin/time -v -o "$run/time.txt.tmp" "$sngan" train "${args[@]}" > "$run/train.log.tmp" 2>&1 ||
    { echo "bf16.sh: training $run failed, see $run/train.log.tmp" >&2; return 1; }
  mv "$run/time.txt.tmp" "$run/time.txt"
  cat "$run/train.log.tmp" >> "$run/train.log" && rm "$run/train.log.tmp"
  touch "$run/done"
}

score() {
  local run=$out/s$1_$2
  [ -f "$run/eval.json" ] && return 0
  OMP_NUM_THREADS=1 "$sngan" eval --checkpoint "$run/checkpoints/latest.safetensors" --n 10000 --ema \
    --reference "$reference" --features "$features" --metrics fd,kid,is,pr --out "$run/eval.json.tmp" \
    > "$run/eval.log" 2>&1
  mv "$run/eval.json.tmp" "$run/eval.json"
}

for s in $seeds; do
  echo "== seed $s: fp32 and bf16 side by side ($(date -u +%H:%M:%S))"
  pids=()
  for p in fp32 bf16; do (train "$s" "$p" && score "$s" "$p") & pids+=($!); done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  [ "$status" = 0 ] || exit 1
done

/usr/bin/python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]
rows = []
for name in sorted(os.listdir(out)):
    m = re.fullmatch(r"s(\d+)_(fp32|bf16)", name)
    path = os.path.join(out, name, "eval.json")
    if not m or not os.path.isfile(path): continue
    e = json.load(open(path))["metrics"]
    t = open(os.path.join(out, name, "time.txt")).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", t).group(1)
    secs = 0.0
    for part in wall.split(":"): secs = secs * 60 + float(part)
    rows.append(dict(seed=int(m.group(1)), precision=m.group(2), fd=e["fd"], kid=e["kid"]["mean"],
                     inception_score=e["is"]["mean"], precision_pr=e["pr"]["precision"], recall_pr=e["pr"]["recall"],
                     train_wall_s=secs))
rows.sort(key=lambda r: (r["seed"], r["precision"] != "fp32"))
keys = list(rows[0].keys()) if rows else []
fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)
with open(os.path.join(out, "results.csv"), "w") as f:
    f.write(",".join(keys) + "\n")
    for r in rows: f.write(",".join(fmt(r[k]) for k in keys) + "\n")
with open(os.path.join(out, "results.md"), "w") as f:
    f.write("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys) + "\n")
    for r in rows: f.write("| " + " | ".join(fmt(r[k]) for k in keys) + " |\n")
    means = {p: [r["fd"] for r in rows if r["precision"] == p] for p in ("fp32", "bf16")}
    if means["fp32"] and means["bf16"]:
        a, b = (sum(v) / len(v) for v in (means["fp32"], means["bf16"]))
        f.write(f"\nMean FD over {len(means['fp32'])} fp32 and {len(means['bf16'])} bf16 runs: "
                f"fp32 {a:.2f}, bf16 {b:.2f} ({100 * (b - a) / a:+.1f}%).\n")
print(open(os.path.join(out, "results.md")).read())
PY
