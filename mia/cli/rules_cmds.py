"""Rule commands: `mia check`, `mia features`, `mia schema`, `mia signals`."""
from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np

from mia import HOME
from mia.cli.data_options import add_cache_option, add_zone_option, cache_from, zones_from
from mia.errors import MiaError


def default_rules_paths() -> list[str]:
    """`rules/` of the current folder when there is one, else the bundled default rules."""
    return ["rules"] if Path("rules").is_dir() else [str(HOME / "rules")]


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
    return 0


def cmd_features(args) -> int:
    from mia.dsl import catalog
    from mia.dsl.check import FUNCTIONS

    if args.json:
        print(json.dumps({
            "features": [{"name": f.name, "unit": f.unit, "kind": f.kind, "meaning": f.meaning}
                         for f in catalog.FEATURES],
            "level_sets": [{"name": s.name, "members": list(s.members), "meaning": s.meaning}
                           for s in catalog.LEVEL_SETS],
            "functions": {name: help_ for name, (_, _, help_) in FUNCTIONS.items()},
        }, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(100, Console().width))
    table = Table(title="Built-in features", show_lines=False)
    for col in ("name", "unit", "kind", "meaning"):
        table.add_column(col)
    for f in catalog.FEATURES:
        table.add_row(f.name, "-" if f.unit == "1" else f.unit, f.kind, f.meaning)
    console.print(table)
    sets = Table(title="Level sets (for nearest / above / below)")
    sets.add_column("name")
    sets.add_column("members")
    for s in catalog.LEVEL_SETS:
        sets.add_row(s.name, ", ".join(s.members))
    console.print(sets)
    fns = Table(title="Functions")
    fns.add_column("usage")
    for _, (_, _, help_) in FUNCTIONS.items():
        fns.add_row(help_)
    console.print(fns)
    return 0


def cmd_schema(args) -> int:
    from mia.dsl.schema import rules_schema

    print(json.dumps(rules_schema(), indent=2))
    return 0


def _read_csv(path: str) -> tuple[list[str], dict[str, np.ndarray], int, list[str]]:
    """CSV -> (times, columns, rows, problems); a row with a non-numeric cell is skipped and reported."""
    try:
        fh = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise MiaError(f"{path}: error: no such file") from None
    except OSError as exc:
        raise MiaError(f"{path}: error: cannot read: {exc.strerror}") from None
    problems: list[str] = []
    with fh:
        try:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise MiaError(f"{path}: error: empty file (expected a header row of column names)")
            header = [h.strip() for h in header]
            numeric = [i for i, h in enumerate(header) if h != "time"]
            t_col = header.index("time") if "time" in header else None
            times: list[str] = []
            values: list[list[float]] = []
            for lineno, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    problems.append(f"{path}:{lineno}: {len(row)} cells, expected {len(header)}")
                    continue
                vals = []
                for i in numeric:
                    cell = row[i].strip()
                    if cell == "" or cell.lower() in ("nan", "na", "null"):
                        vals.append(math.nan)
                        continue
                    try:
                        vals.append(float(cell))
                    except ValueError:
                        problems.append(f"{path}:{lineno}: column '{header[i]}': {cell!r} is not a number")
                        break
                else:
                    values.append(vals)
                    times.append(row[t_col] if t_col is not None else str(lineno - 1))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise MiaError(f"{path}: error: not a readable CSV file ({exc})") from None
    matrix = np.array(values, dtype=np.float64).reshape(len(values), len(numeric))
    columns = {header[i]: matrix[:, k] for k, i in enumerate(numeric)}
    return times, columns, len(values), problems


def _read_jsonl(paths: list[str], cache=None,
                zones: dict | None = None) -> tuple[list[str], dict[str, np.ndarray], int, list[str]]:
    """Sierra Chart day folders -> one feature row per closed bar (New York times)."""
    from mia.backtest.data import data_paths
    from mia.calendar import iso
    from mia.features import compute_features
    from mia.market.sierra import BadLines

    bad = BadLines()
    frame = compute_features(data_paths(paths), bad=bad, zones=zones, cache=cache)
    times = [iso(t)[:16].replace("T", " ") for t in frame.times]
    columns = {name: frame.matrix[:, j] for j, name in enumerate(frame.columns)}
    problems = [f"{path}: {reason}: {count} line{'s' * (count != 1)}"
                for path, reasons in bad.by_file().items() for reason, count in reasons.items()]
    return times, columns, len(frame.times), problems


def cmd_signals(args) -> int:
    from mia.dsl import compile_rules, load_rules
    from mia.dsl.firings import firings, format_value, input_matrix

    rs = load_rules(args.rules or default_rules_paths())
    paths = args.data or []
    is_csv = len(paths) == 1 and Path(paths[0]).suffix.lower() == ".csv"
    if is_csv:
        source = paths[0]
        times, columns, n, problems = _read_csv(source)
    else:
        source = ", ".join(paths) or "the simulated session"
        times, columns, n, problems = _read_jsonl(paths, cache_from(args), zones_from(args))
    compiled = compile_rules(rs)
    X = input_matrix(compiled, columns, n, source)
    OUT = compiled.batch(X)
    rows = firings(compiled, X, OUT)

    def values_text(f) -> str:
        return " ".join(f"{k}={format_value(v)}" for k, v in f.values)

    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["time", "rule", "kind", "side", "values", "effect", "reason"])
            for f in rows:
                w.writerow([times[f.row], f.rule, f.kind, f.side, values_text(f), f.effect, f.reason])
    if not args.quiet:
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False)
        for col in ("time", "rule", "kind", "side", "values", "effect / reason"):
            table.add_column(col)
        for f in rows:
            extra = f"{f.effect}: {f.reason}" if f.kind == "hard_rule" else ""
            table.add_row(times[f.row], f.rule, f.kind, f.side, values_text(f), extra)
        Console(width=200).print(table)
    counts: dict[str, int] = {}
    for f in rows:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    sig = ", ".join(f"{s.name} {counts.get(s.name, 0)}" for s in rs.signals)
    hard = ", ".join(f"{h.name} {counts.get(h.name, 0)}" for h in rs.hard_rules)
    print(f"{n} rows; signals fired: {sig or 'none defined'}; hard rules against them: {hard or 'none defined'}")
    if problems:
        what = f"{len(problems)} bad row{'s' * (len(problems) != 1)} skipped" if is_csv else \
            "bad data lines skipped (file: reason: count)"
        print(f"{what}:", file=sys.stderr)
        for p in problems[:20]:
            print(f"  {p}", file=sys.stderr)
        if len(problems) > 20:
            print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
    return 0
