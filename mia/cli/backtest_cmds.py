"""Backtest command: `mia backtest`."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from mia.cli.rules_cmds import default_rules_paths
from mia.cli.data_options import add_cache_option, add_zone_option, cache_from, zones_from
from mia.errors import MiaError


#: the largest --slippage (ticks) and --commission (USD per contract per side): the bounds of
#: config/mia.yaml's broker (far past any real market; 1e308 ticks made prices negative and
#: summary.json hold -Infinity)
MAX_SLIPPAGE_TICKS = 1000.0
MAX_COMMISSION_USD = 1000.0


def _bounded(flag: str, value: float, most: float, unit: str) -> float:
    """``value`` of ``flag`` when it is a number from 0 to ``most``, else the error the trader sees."""
    if not math.isfinite(value) or value < 0 or value > most:
        raise MiaError(f"{flag} {value:g}: error: must be a number from 0 to {most:g} {unit}")
    return value


def register(sub) -> None:
    p = sub.add_parser("backtest", help="replay days through the rules and the paper broker",
                       description="Run the live streaming path (replay -> features -> engine -> paper broker) "
                                   "over Sierra Chart JSONL day folders, deterministically. Writes trades.csv, "
                                   "decisions.jsonl, summary.json and equity.png to --out.",
                       epilog="example: mia backtest --rules rules/ --data ~/sierra/ --from 2025-11-01 "
                              "--to 2025-11-20 --out runs/nov")
    p.add_argument("--rules", nargs="+", default=None, metavar="PATH", help="rule files or folders (default: rules/)")
    p.add_argument("--data", nargs="+", default=None, metavar="PATH",
                   help="day folders or a folder of day folders (default: the bundled simulated session)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day to replay")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day to replay")
    p.add_argument("--out", default="runs/latest", metavar="DIR", help="output folder (default: runs/latest)")
    p.add_argument("--slippage", type=float, default=1.0, metavar="TICKS", help="slippage per market fill (1)")
    p.add_argument("--commission", type=float, default=2.25, metavar="USD", help="commission per contract per side")
    p.add_argument("--json", action="store_true", help="print summary.json to stdout instead of the table")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_cache_option(p)
    add_zone_option(p)
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args) -> int:
    from mia.backtest.driver import backtest_days
    from mia.cli.summary import print_summary
    from mia.runtime.runfolder import RunWriter
    from mia.dsl import compile_rules, load_rules

    # mistakes in the arguments are said before anything runs
    slippage = _bounded("--slippage", args.slippage, MAX_SLIPPAGE_TICKS, "ticks")
    commission = _bounded("--commission", args.commission, MAX_COMMISSION_USD, "USD per contract")
    zones, cache = zones_from(args), cache_from(args)
    out = Path(args.out)
    compiled = compile_rules(load_rules(args.rules or default_rules_paths()))
    writer = RunWriter(out)
    try:
        bt = backtest_days(compiled, args.data, args.date_from, args.date_to, sinks=[writer], record=False,
                           slippage_ticks=slippage, commission_per_contract=commission,
                           progress=not (args.no_progress or args.json), cache=cache, zones=zones)
        summary = writer.summary(len(bt.session.days))
        summary["events"] = bt.session.events
        summary["bad_lines"] = bt.bad_lines
        writer.commit(summary)
    except BaseException:
        writer.abort()
        raise
    bad_lines = bt.bad_lines
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
        print(f"wrote {out}/trades.csv, decisions.jsonl, summary.json, equity.png; "
              f"ask `mia why HH:MM --run {out}` about any bar")
    if bad_lines:
        print(f"{sum(bad_lines.values())} bad data lines skipped: "
              + ", ".join(f"{k} {v}" for k, v in sorted(bad_lines.items())), file=sys.stderr)
    return 0

