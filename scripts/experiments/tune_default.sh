#!/usr/bin/env bash
# Tunes the default Fashion-MNIST run (configs/fashion_mnist.json): trains each candidate below
# (the earlier default, configs/fashion_mnist_paper.json, plus --set overrides; "base" is that
# earlier default) into its own run directory, scores it with
# `sngan eval` (FD over 10k samples in the Fashion-MNIST classifier's feature space, and the
# class histogram), and writes a table of FD, class balance and time per candidate.
#
#   scripts/experiments/tune_default.sh [--out DIR] [--budget-minutes M] [--only NAME,...]
#                                       [--threads T] [--dry-run]
#
#   --out DIR             where runs and tables go (default results/tune_default)
#   --budget-minutes M    stop starting new candidates after M minutes of wall time (default 600)
#   --only NAMES          run only these candidates (comma-separated), in the listed order
#   --threads T           threads per training run (default 0: every core)
#   --dry-run             list the candidates and their overrides, run nothing
#
# Resumable: a candidate whose run has finished (checkpoints/latest.safetensors at the final
# iteration and a score file) is skipped; an interrupted one resumes with `sngan train --resume`.
# EMA candidates are scored twice: the raw G ("name") and the EMA generator ("name+ema").
#
# Needs build/sngan and the evaluation files (SNGAN_FEATURES, SNGAN_REFERENCE), by default
# models/classifier_fashion_mnist.safetensors (sngan classifier train --config
# configs/classifier_fashion_mnist.json) and models/fashion_mnist_train.safetensors (sngan stats
# --config configs/fashion_mnist.json --features models/classifier_fashion_mnist.safetensors
# --out models/fashion_mnist_train.safetensors).
#
# Output: DIR/<name>/ (the run, time.txt from /usr/bin/time -v, eval.json, eval_ema.json),
# DIR/results.csv and DIR/results.md. Wall time is inflated on a shared machine: compare the CPU
# seconds (user + sys), whose half estimates the wall time on an unloaded 2-core machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

out=results/tune_default
budget_minutes=600
only=""
threads=0
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --budget-minutes) budget_minutes=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "tune_default.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

config=configs/fashion_mnist_paper.json  # the earlier default: every candidate's starting point
features=${SNGAN_FEATURES:-models/classifier_fashion_mnist.safetensors}
reference=${SNGAN_REFERENCE:-models/fashion_mnist_train.safetensors}
sngan=${SNGAN:-build/sngan}

# name | --set overrides (space-separated key=value) on top of the default config.
# The levers: loss, widths, learning rates and betas (incl. two time-scale rates), n_dis,
# batch size, EMA (decay, start, standing statistics), iterations against width.
candidates=(
  "base|"
  "hinge|train.loss=hinge"
  "hinge_ema|train.loss=hinge train.ema_decay=0.999 train.ema_start=1000 train.ema_standing_batches=16"
  "hinge_ema_b09|train.loss=hinge train.beta1=0 train.beta2=0.9 train.ema_decay=0.999 train.ema_start=1000"
  "hinge_ttur|train.loss=hinge train.lr_g=1e-4 train.lr_d=4e-4 train.beta1=0 train.beta2=0.9 train.ema_decay=0.999 train.ema_start=1000"
  "hinge_lr4|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.9 train.ema_decay=0.999 train.ema_start=1000"
  "hinge_ndis2|train.loss=hinge train.n_dis=2 train.iterations=2000 train.ema_decay=0.999 train.ema_start=700"
  "hinge_bs32|train.loss=hinge train.batch_size=32 train.iterations=5000 train.ema_decay=0.999 train.ema_start=1500"
  "hinge_ema_decay|train.loss=hinge train.ema_decay=0.9999 train.ema_start=500"
  "hinge_ema_nostanding|train.loss=hinge train.ema_decay=0.999 train.ema_start=1000 train.ema_standing_batches=0"
  "hinge_narrow_long|train.loss=hinge model.generator.base_channels=64 train.iterations=5000 train.ema_decay=0.999 train.ema_start=1500"
  "hinge_wide_short|train.loss=hinge model.generator.base_channels=256 train.iterations=1500 train.ema_decay=0.999 train.ema_start=500"
  "hinge_dwide|train.loss=hinge model.discriminator.conv_channels=[32,32,64,64,128,128,256] train.iterations=2000 train.ema_decay=0.999 train.ema_start=700"
  "hinge_lrdecay|train.loss=hinge train.lr_decay=linear train.ema_decay=0.999 train.ema_start=1000"
  "hinge_ema995|train.loss=hinge train.ema_decay=0.995 train.ema_start=1000"
  "hinge_dmid_ema995|train.loss=hinge model.discriminator.conv_channels=[32,32,64,64,128,128,256] train.iterations=2000 train.ema_decay=0.995 train.ema_start=700"
  "hinge_g64_dmid_ema995|train.loss=hinge model.generator.base_channels=64 model.discriminator.conv_channels=[32,32,64,64,128,128,256] train.iterations=2500 train.ema_decay=0.995 train.ema_start=800"
  "hinge_lr4_ema995|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.9 train.ema_decay=0.995 train.ema_start=1000"
  "hinge_lr6_ema995|train.loss=hinge train.lr=6e-4 train.beta1=0 train.beta2=0.9 train.ema_decay=0.995 train.ema_start=1000"
  "hinge_lr4_b099_ema995|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.99 train.ema_decay=0.995 train.ema_start=1000"
  "hinge_lr4_bs32_ema995|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.9 train.batch_size=32 train.iterations=6000 train.ema_decay=0.995 train.ema_start=2000"
  "hinge_lr4_it5000_ema995|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.9 train.iterations=5000 train.ema_decay=0.995 train.ema_start=1500"
  "hinge_lr4_it5000_ema999|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.9 train.iterations=5000 train.ema_decay=0.999 train.ema_start=1500"
  "hinge_lr6_b099_ema995|train.loss=hinge train.lr=6e-4 train.beta1=0 train.beta2=0.99 train.ema_decay=0.995 train.ema_start=1000"
  "hinge_lr8_b099_ema995|train.loss=hinge train.lr=8e-4 train.beta1=0 train.beta2=0.99 train.ema_decay=0.995 train.ema_start=1000"
  "hinge_lr6_b099_it5000_ema995|train.loss=hinge train.lr=6e-4 train.beta1=0 train.beta2=0.99 train.iterations=5000 train.ema_decay=0.995 train.ema_start=1500"
  "hinge_lr6_it5000_ema995|train.loss=hinge train.lr=6e-4 train.beta1=0 train.beta2=0.9 train.iterations=5000 train.ema_decay=0.995 train.ema_start=1500"
  "hinge_lr4_b099_bs32_it7000_ema9975|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.99 train.batch_size=32 train.iterations=7000 train.ema_decay=0.9975 train.ema_start=2000"
  "hinge_lr4_b099_bs32_it7000_ema9975_lrdecay|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.99 train.batch_size=32 train.iterations=7000 train.ema_decay=0.9975 train.ema_start=2000 train.lr_decay=linear"
  "hinge_lr6_b099_bs32_it7000_ema9975_lrdecay|train.loss=hinge train.lr=6e-4 train.beta1=0 train.beta2=0.99 train.batch_size=32 train.iterations=7000 train.ema_decay=0.9975 train.ema_start=2000 train.lr_decay=linear"
  "hinge_lr4_b099_bs32_it7000_ema999|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.99 train.batch_size=32 train.iterations=7000 train.ema_decay=0.999 train.ema_start=2000"
  "hinge_lr4_b099_bs32_it8000_ema9975|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.99 train.batch_size=32 train.iterations=8000 train.ema_decay=0.9975 train.ema_start=2000"
  "hinge_lr6_b099_bs32_it7000_ema9975|train.loss=hinge train.lr=6e-4 train.beta1=0 train.beta2=0.99 train.batch_size=32 train.iterations=7000 train.ema_decay=0.9975 train.ema_start=2000"
  "hinge_lr4_dmid_ema995|train.loss=hinge train.lr=4e-4 train.beta1=0 train.beta2=0.9 model.discriminator.conv_channels=[32,32,64,64,128,128,256] train.iterations=2000 train.ema_decay=0.995 train.ema_start=700"
)

selected=()
for c in "${candidates[@]}"; do
  name=${c%%|*}
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  selected+=("$c")
done

if [ "$dry_run" = 1 ]; then
  printf '%-22s %s\n' candidate "overrides on $config"
  for c in "${selected[@]}"; do printf '%-22s %s\n' "${c%%|*}" "${c#*|}"; done
  exit 0
fi

for f in "$sngan" "$features" "$reference"; do
  [ -f "$f" ] || { echo "tune_default.sh: $f not found (see the header of this script)" >&2; exit 1; }
done
mkdir -p "$out"
start=$(date +%s)

# Scores a run's latest checkpoint into $2 (extra eval arguments follow).
score() {
  local run=$1 json=$2; shift 2
  [ -f "$json" ] && return 0
  "$sngan" eval --checkpoint "$run/checkpoints/latest.safetensors" --n 10000 --reference "$reference" \
    --features "$features" --metrics fd --out "$json.tmp" "$@" > "$json.log" 2>&1
  mv "$json.tmp" "$json"
}

for c in "${selected[@]}"; do
  name=${c%%|*}
  read -r -a sets <<< "${c#*|}"
  run="$out/$name"
  args=(--config "$config" --out "$run" --set "threads=$threads")
  for s in "${sets[@]}"; do args+=(--set "$s"); done
  if [ -f "$run/done" ]; then
    echo "== $name: finished before, skipped"
  else
    if [ $(( $(date +%s) - start )) -ge $(( budget_minutes * 60 )) ]; then
      echo "== $name: budget of $budget_minutes minutes used up, not started"; continue
    fi
    echo "== $name: sngan train ${args[*]}"
    [ -f "$run/config.json" ] && args+=(--resume)
    /usr/bin/time -v -o "$run.time.txt" "$sngan" train "${args[@]}" > "$run.train.log" 2>&1 ||
      { echo "   training failed, see $run.train.log"; continue; }
    # Times of the last (completing) invocation; a resumed run adds its earlier ones by hand.
    mv "$run.time.txt" "$run/time.txt"; mv "$run.train.log" "$run/train.log"
    touch "$run/done"
  fi
  score "$run" "$run/eval.json"
  if grep -q '"ema_decay": *0\.[0-9]*[1-9]' "$run/config.json"; then score "$run" "$run/eval_ema.json" --ema; fi
done

# The table: every scored candidate in the output directory.
/usr/bin/python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]
rows = []
for name in sorted(os.listdir(out)):
    run = os.path.join(out, name)
    if not os.path.isfile(os.path.join(run, "done")): continue
    cfg = json.load(open(os.path.join(run, "config.json")))
    t = cfg["train"]; g = cfg["model"]["generator"]; d = cfg["model"]["discriminator"]
    time_txt = open(os.path.join(run, "time.txt")).read() if os.path.isfile(os.path.join(run, "time.txt")) else ""
    def field(label):
        m = re.search(re.escape(label) + r":\s*([0-9.:]+)", time_txt)
        return m.group(1) if m else ""
    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    secs = 0.0
    for part in wall.split(":"): secs = secs * 60 + float(part or 0)
    cpu = float(field("User time (seconds)") or 0) + float(field("System time (seconds)") or 0)
    for kind, fname in (("G", "eval.json"), ("EMA", "eval_ema.json")):
        path = os.path.join(run, fname)
        if not os.path.isfile(path): continue
        e = json.load(open(path))
        h = e["class_histogram"]; n = sum(h)
        rows.append(dict(candidate=name + ("+ema" if kind == "EMA" else ""), loss=t["loss"],
                         g_width=g["base_channels"], d_channels="-".join(map(str, d["conv_channels"])),
                         lr_g=t["lr_g"], lr_d=t["lr_d"], lr_decay=t.get("lr_decay", "none"), betas=f'{t["beta1"]}/{t["beta2"]}', n_dis=t["n_dis"],
                         batch=t["batch_size"], iterations=t["iterations"],
                         ema=(f'{t["ema_decay"]}@{t.get("ema_start", 0)}/sb{t.get("ema_standing_batches", 0)}'
                              if t.get("ema_decay", 0) > 0 else "-"),
                         fd=round(e["metrics"]["fd"], 2), min_share=round(100 * min(h) / n, 1),
                         max_share=round(100 * max(h) / n, 1), wall_min=round(secs / 60, 1),
                         cpu_min=round(cpu / 60, 1), est_2core_min=round(cpu / 120, 1),
                         histogram=" ".join(map(str, h))))
rows.sort(key=lambda r: r["fd"])
if not rows: sys.exit(0)
keys = list(rows[0].keys())
with open(os.path.join(out, "results.csv"), "w") as f:
    f.write(",".join(keys) + "\n")
    for r in rows: f.write(",".join(f'"{r[k]}"' if k in ("histogram",) else str(r[k]) for k in keys) + "\n")
with open(os.path.join(out, "results.md"), "w") as f:
    f.write("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys) + "\n")
    for r in rows: f.write("| " + " | ".join(str(r[k]) for k in keys) + " |\n")
print(open(os.path.join(out, "results.md")).read())
PY
