#!/bin/sh
# bench/eval, then the numpy peer on the same arrays, then the ratios. Options go to bench/eval
# (e.g. --sop 12000 --market 3368 15913 --device cpu:0). Needs numpy in $PYTHON (python3).
set -e
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/ufo-bench-eval-XXXXXX)
trap 'rm -rf "$dir"' EXIT
bench/eval --save "$dir" "$@" | tee "$dir/device.log"
sop=$(sed -n 's/^SECONDS sop=\([0-9.]*\) .*/\1/p' "$dir/device.log")
market=$(sed -n 's/^SECONDS .*market=\([0-9.]*\)/\1/p' "$dir/device.log")
"${PYTHON:-python3}" bench/eval_peer.py "$dir" --sop-seconds "$sop" --market-seconds "$market"
