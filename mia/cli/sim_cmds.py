"""Simulator command: `mia simulate` writes a seeded ES session as Sierra Chart JSONL files."""
from __future__ import annotations

import sys

from mia.market.sim.clock import RTH_MINUTES


def register(sub) -> None:
    p = sub.add_parser(
        "simulate", help="write a simulated ES session as Sierra Chart JSONL",
        description="Write a realistic, seeded ES RTH session (09:30 New York of --date onward) as a "
                    "Sierra Chart day folder: chart 3 (basedata, trade, quote, depth, vwap, vva, nbcv, "
                    "cumulative_delta, atr), chart 4 (30-minute basedata, atr, pvwap), chart 8 (vix) and "
                    "chart 10 (menthorq_level). Same seed and options, same bytes.",
        epilog="examples:\n"
               "  mia simulate --date 2025-11-20 --out data/20251120 --seed 7\n"
               "  mia simulate --date 2025-11-20 --out /tmp/s --minutes 60 --unified\n"
               "  mia simulate --date 2025-11-20 --out /tmp/big --scale 5   # about 5x the events",
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    p.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="session date (sets the front contract)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="day folder to write (created if missing; refused if it holds files mia simulate "
                        "did not write)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--minutes", type=int, default=RTH_MINUTES,
                   help=f"session length from 09:30 New York (default {RTH_MINUTES}: the whole RTH)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="event-rate multiplier for trades, quotes and depth (default 1; e.g. 5 for load tests)")
    p.add_argument("--unified", action="store_true", help="also write mia_unified_<YYYYMMDD>.jsonl (all lines in time order)")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    p.add_argument("--force", action="store_true",
                   help="write into --out even when it holds files mia simulate did not write (real recordings!)")
    p.set_defaults(func=cmd_simulate)


def cmd_simulate(args) -> int:
    from mia.market.sim.session import SimConfig, parse_day, simulate

    cfg = SimConfig(day=parse_day(args.date), seed=args.seed, minutes=args.minutes, scale=args.scale,
                    unified=args.unified)
    result = simulate(cfg, args.out, force=args.force)
    if not args.quiet:
        for name, n in result.files.items():
            print(f"  {name:<48} {n:>10,} lines")
    rate = result.events / result.seconds if result.seconds > 0 else 0.0
    print(f"{result.folder}: {result.symbol} {cfg.day} seed {cfg.seed}, {cfg.minutes} min: "
          f"{result.events:,} events in {result.seconds:.2f} s ({rate:,.0f} events/s)", file=sys.stdout)
    return 0
