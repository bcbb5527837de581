#!/usr/bin/env bash
# End-to-end check of the weight conversion (needs Debian's python3-torch and
# python3-torchvision; CI does not run it): the deterministic test weights saved as a .pth with
# pytorch-fid's state_dict layout -> scripts/convert_inception.py -> safetensors ->
# load_inception_v3 -> the PyTorch reference outputs (test_metrics'
# InceptionV3.ConvertedWeightFileMatchesPyTorch). Also checks that download_inception.sh
# refuses a file whose SHA-256 is not the published weights'.
#   tests/metrics/test_convert_inception.sh [build dir]     (default: build)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
python=/usr/bin/python3
if ! "$python" -c "import torch, torchvision" 2> /dev/null; then
  echo "skipped: $python has no torch/torchvision (apt-get install python3-torch python3-torchvision)"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" "$root/tests/metrics/make_inception_reference.py" --pth "$work/formula.pth" 2> /dev/null
"$python" "$root/scripts/convert_inception.py" "$work/formula.pth" "$work/formula.safetensors"
SNGAN_INCEPTION_TEST_WEIGHTS="$work/formula.safetensors" \
  "$build/tests/test_metrics" --gtest_filter='InceptionV3.ConvertedWeightFileMatchesPyTorch'

# A .pth that is not the published file: download_inception.sh must stop at the hash check.
mkdir -p "$work/models"
cp "$work/formula.pth" "$work/models/pt_inception-2015-12-05-6726825d.pth"
if MODELS_DIR="$work/models" "$root/scripts/download_inception.sh" 2> "$work/err"; then
  echo "FAIL: download_inception.sh accepted a file with the wrong SHA-256" >&2
  exit 1
fi
grep -q "expected SHA-256 6726825d0af5f729" "$work/err" || { cat "$work/err"; echo "FAIL: unclear error" >&2; exit 1; }
[[ ! -e "$work/models/inception_v3_fid.safetensors" ]] || { echo "FAIL: converted anyway" >&2; exit 1; }
echo "conversion end to end: OK"
