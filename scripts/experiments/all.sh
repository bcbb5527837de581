#!/usr/bin/env bash
# Every experiment of Miyato et al. 2018 in turn: settings (Figures 1-2), table2 (Table 2),
# spectra (Figure 3), sigma (Figure 9), timing (Figure 10), ndis (Figure 11). The options go to
# each script; --out DIR puts each one's results in DIR/<name> (default results/<name>).
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
args=() out=""
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=${2:?--out needs a value}; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
for name in settings table2 spectra sigma timing ndis; do
  start=$SECONDS
  extra=()
  [ -n "$out" ] && extra=(--out "$out/$name")
  if [ "$name" = table2 ] && [ -n "$out" ]; then export SETTINGS_CSV=$out/settings/settings.csv; fi
  "$here/$name.sh" "${args[@]}" "${extra[@]}"
  echo "== $name: $((SECONDS - start)) s"
done
