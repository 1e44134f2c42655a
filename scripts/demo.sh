#!/usr/bin/env bash
# `make demo`: the offline tools one after the other: check the bundled rules, show where they fire on the
# bundled simulated session (generated on first use), backtest that session and explain a bar.
set -euo pipefail
cd "$(dirname "$0")/.."
mia=.venv/bin/mia
$mia check rules/
$mia signals --rules rules/ --quiet
$mia backtest --rules rules/ --out runs/demo
first=$(grep -m1 '"enter ' runs/demo/decisions.jsonl | sed -E 's/.*"time":"[0-9-]+T([0-9]{2}:[0-9]{2}).*/\1/' || true)
if [ -n "$first" ]; then
    echo; echo "\$ mia why $first --run runs/demo"
    $mia why "$first" --run runs/demo
fi
