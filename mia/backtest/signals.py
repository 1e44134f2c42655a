"""Where the rules fire over past data: `mia signals`, without placing anything.

The data is CSVs of feature columns (named as in `mia features`, plus ``time``; several are
read one after the other, as one series) or Sierra Chart day folders (features computed by the
feature engine over their columnar blocks); the rules' batch kernel runs over the rows and
``mia.dsl.firings`` lists each signal that fired and the hard rules that stood against it. A CSV
may start with a byte order mark (Excel's "CSV UTF-8"); a column named twice is an error; a row
with a cell that is not a number is skipped and reported; bad data lines are counted per file
and reason.
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
        fh = open(path, newline="", encoding="utf-8-sig")   # Excel's "CSV UTF-8" starts with a BOM
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
            first: dict[str, int] = {}
            for i, h in enumerate(header):
                if h in first:
                    raise MiaError(f"{path}:1: error: column '{h}' is named twice (columns {first[h] + 1} "
                                   f"and {i + 1})")
                first[h] = i
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


def read_feature_csvs(paths: list[str]) -> tuple[list[str], dict[str, np.ndarray], int, list[str]]:
    """Several feature CSVs read one after the other as one series; each must have the columns
    of the first (in any order)."""
    times, columns, n, problems = read_feature_csv(paths[0])
    if len(paths) == 1:
        return times, columns, n, problems
    parts = [columns]
    for path in paths[1:]:
        t, cols, k, probs = read_feature_csv(path)
        if set(cols) != set(columns):
            missing = sorted(set(columns) - set(cols))
            extra = sorted(set(cols) - set(columns))
            said = "; ".join(x for x in (f"lacks {', '.join(missing)}" if missing else "",
                                         f"has {', '.join(extra)} too" if extra else "") if x)
            raise MiaError(f"{path}: error: not the columns of {paths[0]}: {said}")
        times += t
        n += k
        problems += probs
        parts.append(cols)
    return times, {name: np.concatenate([c[name] for c in parts]) for name in columns}, n, problems


def feature_rows_of_days(paths: list[str], cache=None, zones: dict | None = None,
                         ruleset=None) -> tuple[list[str], dict[str, np.ndarray], int, list[str]]:
    """Sierra Chart day folders -> one feature row per closed bar (New York times), with the
    feature settings and instrument of ``ruleset`` when given."""
    from mia.backtest.driver import data_paths
    from mia.calendar import iso
    from mia.features import compute_features
    from mia.features.config import FeatureConfig
    from mia.market.sierra import BadLines
    from mia.runtime.symbols import SymbolGuard

    bad = BadLines()
    guard = SymbolGuard(ruleset) if ruleset is not None else None
    config = FeatureConfig.for_rules(ruleset) if ruleset is not None else None
    instrument = ruleset.instrument if ruleset is not None else "ES"
    tick = ruleset.tick_size if ruleset is not None else None
    frame = compute_features(data_paths(paths), instrument, config, bad=bad, zones=zones, cache=cache,
                             tick_size=tick, inspect=guard.block if guard is not None else None)
    times = [iso(t)[:16].replace("T", " ") for t in frame.times]
    columns = {name: frame.matrix[:, j] for j, name in enumerate(frame.columns)}
    problems = [f"{path}: {reason}: {count} line{'s' * (count != 1)}"
                for path, reasons in bad.by_file().items() for reason, count in reasons.items()]
    return times, columns, len(frame.times), problems


def signals(ruleset, paths: list[str], cache=None, zones: dict | None = None) -> SignalsReport:
    """Where ``ruleset`` fires over ``paths``: one CSV, or day folders (none: the bundled session)."""
    from mia.dsl import compile_rules
    from mia.dsl.firings import firings, input_matrix

    csvs = [p for p in paths if Path(p).suffix.lower() == ".csv"]
    if csvs and len(csvs) != len(paths):
        others = [p for p in paths if p not in csvs]
        raise MiaError(f"--data: error: CSVs of features ({', '.join(csvs)}) and Sierra Chart data "
                       f"({', '.join(others)}) cannot be mixed: give one or the other")
    is_csv = bool(csvs)
    if is_csv:
        source = ", ".join(paths)
        times, columns, n, problems = read_feature_csvs(paths)
    else:
        source = ", ".join(paths) or "the simulated session"
        times, columns, n, problems = feature_rows_of_days(paths, cache, zones, ruleset)
    compiled = compile_rules(ruleset)
    X = input_matrix(compiled, columns, n, source)
    rows = firings(compiled, X, compiled.batch(X))
    return SignalsReport(source, is_csv, times, n, rows, problems)


def check_csv_target(path: str) -> None:
    """Say before anything runs when ``--csv PATH`` cannot be written: a folder, a folder that
    does not exist, an empty name."""
    if not path:
        raise MiaError("--csv '': error: needs a file name, e.g. --csv firings.csv")
    p = Path(path)
    if p.is_dir():
        raise MiaError(f"{path}: error: is a folder; --csv needs a file name (e.g. {p / 'firings.csv'})")
    folder = p.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise MiaError(f"{path}: error: cannot write the CSV there: {folder} {what}")


def write_csv(path: str, rep: SignalsReport) -> None:
    """``time, rule, kind, side, values, effect, reason``: one line per firing. Written to a
    temporary file beside ``path`` and renamed into place: a full disk leaves any earlier file
    whole; a problem is a ``MiaError`` naming ``path``."""
    import os
    import tempfile

    from mia.dsl.firings import format_value

    check_csv_target(path)
    target = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)        # a file's usual mode, not mkstemp's 0600
        with os.fdopen(fd, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["time", "rule", "kind", "side", "values", "effect", "reason"])
            for f in rep.firings:
                values = " ".join(f"{k}={format_value(v)}" for k, v in f.values)
                w.writerow([rep.times[f.row], f.rule, f.kind, f.side, values, f.effect, f.reason])
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise MiaError(f"{path}: error: cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
