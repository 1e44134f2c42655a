"""Data commands: `mia data inspect`."""
from __future__ import annotations

import json
import sys

from mia.cli.data_options import add_zone_option, zones_from


def register(sub) -> None:
    p = sub.add_parser("data", help="look at Sierra Chart JSONL data", description="Commands about market data.")
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    q = dsub.add_parser("inspect", help="what a folder of JSONL holds",
                        description="Per event type its count, the time span, and bad lines by reason.",
                        epilog="example: mia data inspect ~/sierra/20251120 --json")
    q.add_argument("paths", nargs="+", metavar="PATH", help="day folders, folders of day folders, or files")
    q.add_argument("--json", action="store_true",
                   help='print {"types": {...}, "bad": {...}, "first": iso, "last": iso, "notes": [...], '
                        '"partial_bytes": {...}}')
    add_zone_option(q)
    q.set_defaults(func=cmd_inspect)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def cmd_inspect(args) -> int:
    from mia.market.replay import inspect

    info = inspect(args.paths, zones_from(args))
    for note in info["notes"]:                     # files not read, days without events: never silent
        print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({k: info[k] for k in ("types", "bad", "first", "last", "notes", "partial_bytes")},
                         indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    from mia.cli.richtext import plain

    table = Table(title=plain(f"{', '.join(args.paths)}: {info['first']} .. {info['last']}"))
    table.add_column("event type")
    table.add_column("count", justify="right")
    for typ, n in info["types"].items():
        table.add_row(plain(typ), f"{n:,}")
    console = Console()
    if info["types"]:
        console.print(table)
    else:
        console.print("no events in the data")
    if info["bad"]:
        bad = Table(title="bad lines (skipped)")
        bad.add_column("file")
        bad.add_column("reason")
        bad.add_column("count", justify="right")
        for path, reasons in info["bad_by_file"].items():
            for reason, n in reasons.items():
                lost = info["partial_bytes"].get(path) if reason == "partial_line" else None
                bad.add_row(plain(path), plain(reason + (f" ({lost:,} bytes with no newline)" if lost else "")), str(n))
        console.print(bad)
    else:
        console.print("no bad lines")
    return 0
