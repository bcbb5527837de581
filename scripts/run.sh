#!/usr/bin/env bash
# The one command that sets sngan up and runs the default job: installs missing Debian
# packages, builds, and trains the short SN-GAN run on Fashion-MNIST (configs/fashion_mnist.json).
#   scripts/run.sh [extra sngan train args, e.g. --out runs/my_run]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
exec "$root/build/sngan" --version
