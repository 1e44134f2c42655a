#!/usr/bin/env bash
# Do two commits write the same backtest outputs? Backtests the bundled session and a 5-day
# simulated folder with the rules of this checkout at BASE (default: d307309, the commit before
# the house issue's reshaping) and at HEAD, and compares trades.csv, decisions.jsonl and
# summary.json byte for byte. Usage: scripts/same_outputs.sh [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-d307309}"
scripts/bootstrap.sh >/dev/null 2>&1
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$base" >/dev/null 2>&1
py=$PWD/.venv/bin/python
export MIA_CACHE_DIR="$work/cache"
for d in 17 18 19 20 21; do
    PYTHONPATH=$PWD $py -m mia simulate --date 2025-11-$d --out "$work/sim5/202511$d" --seed 3 --quiet >/dev/null
done
rules=$PWD/rules
run() {  # run SRC_DIR OUT_DIR [--data ...]: mia of SRC_DIR, the same rules files for both
    local src=$1 out=$2; shift 2
    (cd "$src" && PYTHONPATH=$src $py -c "import sys; from mia.cli import main; sys.exit(main())" \
        backtest --rules "$rules" --out "$out" --no-progress --no-cache "$@" >/dev/null)
}
status=0
for name in bundled sim5; do
    extra=(); [ "$name" = sim5 ] && extra=(--data "$work/sim5")
    run "$work/base" "$work/out-base-$name" "${extra[@]}"
    run "$PWD" "$work/out-head-$name" "${extra[@]}"
    for f in trades.csv decisions.jsonl summary.json; do
        if cmp -s "$work/out-base-$name/$f" "$work/out-head-$name/$f"; then
            echo "same  $name/$f"
        else
            echo "DIFF  $name/$f"; status=1
        fi
    done
done
exit $status
