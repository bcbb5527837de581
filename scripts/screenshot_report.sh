#!/usr/bin/env bash
# Renders a run's report.html in headless Chromium (Debian's package, installed when missing)
# and saves a screenshot, to check the page as a browser shows it.
#   scripts/screenshot_report.sh RUN_DIR [OUT.png] [WIDTH,HEIGHT]
# Default OUT: RUN_DIR/report_screenshot.png; default size 1400,2400.
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: $0 RUN_DIR [OUT.png] [WIDTH,HEIGHT]" >&2; exit 2; }
run_dir=$(cd "$1" && pwd)
out=${2:-$run_dir/report_screenshot.png}
size=${3:-1400,2400}
[[ -f "$run_dir/report.html" ]] || { echo "error: $run_dir/report.html not found (expected a run directory of sngan train)" >&2; exit 1; }
if ! command -v chromium > /dev/null; then
  echo "screenshot_report: installing Debian's chromium"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# No network: the page must render from disk alone. The background-networking flags keep
# Chromium from reaching out to its own services.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size="$size" \
  --screenshot="$out" "file://$run_dir/report.html" 2> "$profile/chromium.log" ||
  { cat "$profile/chromium.log" >&2; exit 1; }
[[ -s "$out" ]] || { echo "error: Chromium wrote no screenshot to $out" >&2; cat "$profile/chromium.log" >&2; exit 1; }
echo "screenshot: $out"
