"""Where the rules fire over past data: `mia signals`, without placing anything.

The data is a CSV of feature columns (named as in `mia features`, plus ``time``) or Sierra
Chart day folders (features computed by the feature engine over their columnar blocks); the
rules' batch kernel runs over the rows and ``mia.dsl.firings`` lists each signal that fired and
the hard rules that stood against it. A CSV row with a cell that is not a number is skipped and
reported; bad data lines are counted per file and reason.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mia.errors import MiaError


@dataclass
class SignalsReport:
    source: str
    is_csv: bool
    times: list[str]
    n: int
    firings: list = field(default_factory=list)
    #: bad CSV rows ("path:line: ...") or bad data lines ("path: reason: count lines")
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.firings:
            out[f.rule] = out.get(f.rule, 0) + 1
        return out


def read_feature_csv(path: str) -> tuple[list[str], dict[str, np.ndarray], int, list[str]]:
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


def feature_rows_of_days(paths: list[str], cache=None, zones: dict | None = None,
                         ruleset=None) -> tuple[list[str], dict[str, np.ndarray], int, list[str]]:
    """Sierra Chart day folders -> one feature row per closed bar (New York times), with the
    feature settings and instrument of ``ruleset`` when given."""
    from mia.backtest.driver import data_paths
    from mia.calendar import iso
    from mia.features import compute_features
    from mia.features.config import FeatureConfig
    from mia.market.sierra import BadLines

    bad = BadLines()
    config = FeatureConfig.for_rules(ruleset) if ruleset is not None else None
    instrument = ruleset.instrument if ruleset is not None else "ES"
    frame = compute_features(data_paths(paths), instrument, config, bad=bad, zones=zones, cache=cache)
    times = [iso(t)[:16].replace("T", " ") for t in frame.times]
    columns = {name: frame.matrix[:, j] for j, name in enumerate(frame.columns)}
    problems = [f"{path}: {reason}: {count} line{'s' * (count != 1)}"
                for path, reasons in bad.by_file().items() for reason, count in reasons.items()]
    return times, columns, len(frame.times), problems


def signals(ruleset, paths: list[str], cache=None, zones: dict | None = None) -> SignalsReport:
    """Where ``ruleset`` fires over ``paths``: one CSV, or day folders (none: the bundled session)."""
    from mia.dsl import compile_rules
    from mia.dsl.firings import firings, input_matrix

    is_csv = len(paths) == 1 and Path(paths[0]).suffix.lower() == ".csv"
    if is_csv:
        source = paths[0]
        times, columns, n, problems = read_feature_csv(source)
    else:
        source = ", ".join(paths) or "the simulated session"
        times, columns, n, problems = feature_rows_of_days(paths, cache, zones, ruleset)
    compiled = compile_rules(ruleset)
    X = input_matrix(compiled, columns, n, source)
    rows = firings(compiled, X, compiled.batch(X))
    return SignalsReport(source, is_csv, times, n, rows, problems)


def write_csv(path: str, rep: SignalsReport) -> None:
    """``time, rule, kind, side, values, effect, reason``: one line per firing."""
    from mia.dsl.firings import format_value

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "rule", "kind", "side", "values", "effect", "reason"])
        for f in rep.firings:
            values = " ".join(f"{k}={format_value(v)}" for k, v in f.values)
            w.writerow([rep.times[f.row], f.rule, f.kind, f.side, values, f.effect, f.reason])
