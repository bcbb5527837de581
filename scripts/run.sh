#!/usr/bin/env bash
# The one command that sets sngan up and runs the default job: installs missing Debian
# packages, builds, and trains the short SN-GAN run on Fashion-MNIST
# (configs/fashion_mnist.json) into runs/fashion_mnist. Run it again to continue (or, when
# finished, simply re-report) the same run.
#   scripts/run.sh [extra sngan train args, e.g. --set train.iterations=500]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SNGAN_BUILD_TARGETS=sngan "$root/scripts/setup.sh"  # the trainer only; scripts/test.sh builds the tests
cd "$root"
out=runs/fashion_mnist
resume=()
[ -f "$out/config.json" ] && resume=(--resume)
./build/sngan train --config configs/fashion_mnist.json --out "$out" "${resume[@]}" "$@"
echo
echo "Report (open in a browser): $out/report.html"
echo "Samples per epoch: $out/samples/ (final grid: $out/samples/final.png)"
echo "Curves: $out/loss.png $out/d_outputs.png $out/sigma.png   Log: $out/log.jsonl"
echo "Checkpoint: $out/checkpoints/latest.safetensors"
