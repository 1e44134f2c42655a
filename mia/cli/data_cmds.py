"""Data commands: `mia data inspect`."""
from __future__ import annotations

import json

from mia.cli.data_options import add_zone_option, zones_from


def register(sub) -> None:
    p = sub.add_parser("data", help="look at Sierra Chart JSONL data", description="Commands about market data.")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    q = dsub.add_parser("inspect", help="what a folder of JSONL holds",
                        description="Per event type its count, the time span, and bad lines by reason.",
                        epilog="example: mia data inspect ~/sierra/20251120 --json")
    q.add_argument("paths", nargs="+", metavar="PATH", help="day folders, folders of day folders, or files")
    q.add_argument("--json", action="store_true",
                   help='print {"types": {...}, "bad": {...}, "first": iso, "last": iso}')
    add_zone_option(q)
    q.set_defaults(func=cmd_inspect)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def cmd_inspect(args) -> int:
    from mia.market.replay import inspect

    info = inspect(args.paths, zones_from(args))
    if args.json:
        print(json.dumps({k: info[k] for k in ("types", "bad", "first", "last")}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{', '.join(args.paths)}: {info['first']} .. {info['last']}")
    table.add_column("event type")
    table.add_column("count", justify="right")
    for typ, n in info["types"].items():
        table.add_row(typ, f"{n:,}")
    console = Console()
    console.print(table)
    if info["bad"]:
        bad = Table(title="bad lines (skipped)")
        bad.add_column("file")
        bad.add_column("reason")
        bad.add_column("count", justify="right")
        for path, reasons in info["bad_by_file"].items():
            for reason, n in reasons.items():
                bad.add_row(path, reason, str(n))
        console.print(bad)
    else:
        console.print("no bad lines")
    return 0
