"""Rule commands: `mia check`, `mia features`, `mia schema`, `mia signals`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from mia.resources import shipped
from mia.cli.data_options import add_cache_option, add_zone_option, cache_from, zones_from
from mia.errors import MiaError


def default_rules_paths() -> list[str]:
    """`rules/` of the current folder when there is one, else the bundled default rules."""
    return ["rules"] if Path("rules").is_dir() else [str(shipped("rules"))]


def register(sub) -> None:
    p = sub.add_parser("check", help="validate and type-check rule files",
                       description="Check rule files: schema, names, types, units, cycles. "
                                   "Prints every error as path:line:col and exits 1 if there is any.",
                       epilog="example: mia check rules/   |   mia check rules/battle_navale.yaml")
    p.add_argument("paths", nargs="*", help="rule files or folders (default: rules/)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("features", help="list the built-in features, level sets and functions",
                       description="The built-in feature catalog the rules can read, with units.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_features)

    p = sub.add_parser("schema", help="print the rule-file JSON Schema (for editors)",
                       description="Print the JSON Schema (draft 2020-12) of rule files. Save it and point "
                                   "your editor at it, e.g. with a '# yaml-language-server: $schema=...' line.")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("signals", help="show where each signal fires over a data file",
                       description="Evaluate the rules over a CSV of features (columns named as in "
                                   "`mia features`, plus `time`) and list where signals fire and which "
                                   "hard rules stood against them.",
                       epilog="example: mia signals --rules rules/ --data day.csv --csv firings.csv")
    p.add_argument("--rules", nargs="+", default=None, metavar="PATH", help="rule files or folders (default: rules/)")
    p.add_argument("--data", nargs="+", default=None, metavar="PATH",
                   help="a CSV of feature columns (and `time`), or Sierra Chart JSONL day folders "
                        "(default: the bundled simulated session)")
    p.add_argument("--csv", metavar="OUT", help="also write the rows to this CSV file")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    add_cache_option(p)
    add_zone_option(p)
    p.set_defaults(func=cmd_signals)


def cmd_check(args) -> int:
    from mia.dsl import load_rules

    paths = args.paths or default_rules_paths()
    rs = load_rules(paths)
    print(f"{', '.join(paths)}: ok: {len(rs.files)} file{'s' * (len(rs.files) != 1)}, instrument {rs.instrument}, "
          f"{len(rs.params)} params, {len(rs.features)} derived features, {len(rs.signals)} signals, "
          f"{len(rs.hard_rules)} hard rules, {len(rs.sizing.scale)} sizing rules")
    for f in rs.skipped_files:
        print(f"note: skipped hidden file {f}")
    return 0


def cmd_features(args) -> int:
    from mia.dsl import catalog
    from mia.dsl.functions import FUNCTIONS

    if args.json:
        print(json.dumps({
            "features": [{"name": f.name, "unit": f.unit, "kind": f.kind, "meaning": f.meaning}
                         for f in catalog.FEATURES],
            "level_sets": [{"name": s.name, "members": list(s.members), "meaning": s.meaning}
                           for s in catalog.LEVEL_SETS],
            "functions": {name: fn.help for name, fn in FUNCTIONS.items()},
            "settings": [{"name": s.name, "default": s.default, "meaning": s.meaning} for s in catalog.SETTINGS],
        }, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    from mia.cli.richtext import plain

    console = Console(width=max(100, Console().width))
    table = Table(title="Built-in features", show_lines=False)
    for col in ("name", "unit", "kind", "meaning"):
        table.add_column(col)
    for f in catalog.FEATURES:
        table.add_row(plain(f.name), "-" if f.unit == "1" else plain(f.unit), plain(f.kind), plain(f.meaning))
    console.print(table)
    sets = Table(title="Level sets (for nearest / above / below)")
    sets.add_column("name")
    sets.add_column("members")
    for s in catalog.LEVEL_SETS:
        sets.add_row(plain(s.name), plain(", ".join(s.members)))
    console.print(sets)
    fns = Table(title="Functions")
    fns.add_column("usage")
    for fn in FUNCTIONS.values():
        fns.add_row(plain(fn.help))
    console.print(fns)
    settings = Table(title="Feature settings (a rule param of this name sets the feature engine)")
    for col in ("param", "default", "meaning"):
        settings.add_column(col)
    for s in catalog.SETTINGS:
        settings.add_row(plain(s.name), f"{s.default:g}", plain(s.meaning))
    console.print(settings)
    return 0


def cmd_schema(args) -> int:
    from mia.dsl.schema import rules_schema

    print(json.dumps(rules_schema(), indent=2))
    return 0


def cmd_signals(args) -> int:
    from mia.backtest.signals import check_csv_target, signals, write_csv
    from mia.dsl import load_rules
    from mia.dsl.firings import format_value

    if args.csv is not None:
        check_csv_target(args.csv)          # said before anything runs
    rs = load_rules(args.rules or default_rules_paths())
    rep = signals(rs, args.data or [], cache_from(args), zones_from(args))

    def values_text(f) -> str:
        return " ".join(f"{k}={format_value(v)}" for k, v in f.values)

    if args.csv is not None:
        write_csv(args.csv, rep)
    if not args.quiet:
        from rich.console import Console
        from rich.table import Table

        from mia.cli.richtext import plain

        table = Table(show_lines=False)
        for col in ("time", "rule", "kind", "side", "values", "effect / reason"):
            table.add_column(col)
        for f in rep.firings:
            extra = f"{f.effect}: {f.reason}" if f.kind == "hard_rule" else ""
            table.add_row(*(plain(c) for c in (rep.times[f.row], f.rule, f.kind, f.side, values_text(f), extra)))
        Console(width=200).print(table)
    counts = rep.counts()
    sig = ", ".join(f"{s.name} {counts.get(s.name, 0)}" for s in rs.signals)
    hard = ", ".join(f"{h.name} {counts.get(h.name, 0)}" for h in rs.hard_rules)
    print(f"{rep.n} rows; signals fired: {sig or 'none defined'}; hard rules against them: {hard or 'none defined'}")
    if rep.problems:
        what = f"{len(rep.problems)} bad row{'s' * (len(rep.problems) != 1)} skipped" if rep.is_csv else \
            "bad data lines skipped (file: reason: count)"
        print(f"{what}:", file=sys.stderr)
        for p in rep.problems[:20]:
            print(f"  {p}", file=sys.stderr)
        if len(rep.problems) > 20:
            print(f"  ... and {len(rep.problems) - 20} more", file=sys.stderr)
    return 0
