"""The strongest plain readers of a day folder, for ``bench_market``: JSONL -> merged columns.

Each returns the day as mia's block reader gives it, so the bench and the tests can check that
they are equal (``same``): ``Day(t, code, x, syms, types)`` with ``t`` the UTC epoch of every
line in merge order, ``code`` the ``codes`` kind of a trade / quote / depth / basedata line (4
for any other type), ``x`` its columns as ``codes`` lays them out (zeros for the other types),
``syms`` the symbol of each scanned row ('' when none) and ``types`` the type of each other
row. The merge is a stable sort by time of the files' lines in file-name order: the same as
mia's k-way merge of time-ordered files, ties to the earlier file.

- ``orjson_day``: the plain loop mia itself would write: ``orjson.loads`` per line, the fields
  into lists, the SCDateTime -> UTC epoch with the UTC offset cached per local hour, one array
  per column, concatenated and sorted.
- ``polars_day``: ``polars.read_ndjson`` per file with the kind's schema, the epoch with the
  offsets of the file's local hours, the columns of ``codes``, concat, a stable sort.

They validate nothing (no bad lines, no duplicates, no order or price rules): on the clean
simulated days they read, mia's rules keep every line, and ``same`` checks it.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import orjson

KIND = {"trade": 0, "quote": 1, "depth": 2, "basedata": 3}
OTHER = 4
NCOLS, CHART, SYM = 11, 9, 10
#: the zone each type's ``t`` is written in (the simulator's, mia's default)
UTC_TYPES = ("trade", "quote")
NY = "America/New_York"
_NAME = re.compile(r"^chart_(\d+)_([a-z_]+)_(\d{8})\.jsonl$")


class Day(NamedTuple):
    t: np.ndarray
    code: np.ndarray
    x: np.ndarray
    syms: list
    types: list


def day_files(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("chart_*.jsonl"))


def _offset(zone: str, hour: int) -> float:
    """The UTC offset (seconds) of ``zone`` at the naive local hour ``hour`` (hours since 1970)."""
    naive = datetime(1970, 1, 1) + timedelta(hours=hour)
    return naive.replace(tzinfo=ZoneInfo(zone)).utcoffset().total_seconds()


def _merge(ts, codes, xs, syms, types) -> Day:
    t = np.concatenate(ts)
    order = np.argsort(t, kind="stable")
    code = np.concatenate(codes)[order]
    x = np.concatenate(xs)[order]
    sym_all = [s for part in syms for s in part]
    type_all = [s for part in types for s in part]
    sym_out = [sym_all[i] for i in order.tolist()]
    other = code == OTHER
    type_out = [type_all[i] for i in order[other].tolist()]
    return Day(t[order], code, x, [s for s, o in zip(sym_out, other.tolist()) if not o], type_out)


# ---- orjson, a line at a time ---------------------------------------------------------------------

def orjson_day(folder: Path) -> Day:
    loads = orjson.loads
    ts, codes, xs, syms, types = [], [], [], [], []
    for path in day_files(folder):
        fchart, ftype = int(_NAME.match(path.name).group(1)), _NAME.match(path.name).group(2)
        offsets: dict[float, float] = {}
        t, code, rows, sym, typ = [], [], [], [], []
        with open(path, "rb") as fh:
            for line in fh:
                d = loads(line)
                kind = d.get("type") or ftype
                local = (d["t"] - 25569.0) * 86400.0
                if kind not in UTC_TYPES:
                    hour = local // 3600.0
                    off = offsets.get(hour)
                    if off is None:
                        off = offsets[hour] = _offset(NY, int(hour))
                    local -= off
                t.append(local)
                chart = d.get("chart", fchart)
                k = KIND.get(kind, OTHER)
                code.append(k)
                sym.append(d.get("sym", ""))
                if k == 0:
                    rows.append((d["px"], d["vol"], 1.0 if d["side"] == "BUY" else 0.0, 0, 0, 0, 0, 0, 0, chart, 0))
                elif k == 1:
                    rows.append((d["bid"], d["ask"], 0, 0, 0, 0, 0, 0, 0, chart, 0))
                elif k == 2:
                    rows.append((1.0 if d["side"] == "ASK" else 0.0, d["lvl"], d["size"], d["price"], 0, 0, 0, 0, 0,
                                 chart, 0))
                elif k == 3:
                    rows.append((chart, d["i"], d["o"], d["h"], d["l"], d["c"], d["v"], d.get("bidvol", np.nan),
                                 d.get("askvol", np.nan), chart, 0))
                else:
                    rows.append((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
                typ.append(kind)
        ts.append(np.array(t, np.float64))
        codes.append(np.array(code, np.int8))
        xs.append(np.array(rows, np.float64).reshape(len(rows), NCOLS))
        syms.append(sym)
        types.append(typ)
    return _merge(ts, codes, xs, syms, types)


# ---- polars ---------------------------------------------------------------------------------------

def _schemas():
    import polars as pl

    base = {"t": pl.Float64, "type": pl.String, "sym": pl.String, "chart": pl.Int64}
    f = pl.Float64
    return {
        "trade": {**base, "side": pl.String, "px": f, "vol": f},
        "quote": {**base, "bid": f, "ask": f},
        "depth": {**base, "side": pl.String, "lvl": f, "price": f, "size": f},
        "basedata": {**base, "i": f, "o": f, "h": f, "l": f, "c": f, "v": f, "bidvol": f, "askvol": f},
        None: base,
    }


def polars_day(folder: Path) -> Day:
    import polars as pl

    schemas = _schemas()
    frames = []
    for path in day_files(folder):
        m = _NAME.match(path.name)
        fchart, ftype = int(m.group(1)), m.group(2)
        df = pl.read_ndjson(path, schema=schemas.get(ftype, schemas[None]))
        local = (pl.col("t") - 25569.0) * 86400.0
        if ftype in UTC_TYPES:
            t = local
        else:
            hours = df.select((local // 3600.0).cast(pl.Int64).unique()).to_series().to_list()
            offs = {h: _offset(NY, h) for h in hours}
            t = local - (local // 3600.0).cast(pl.Int64).replace_strict(offs, return_dtype=pl.Float64)
        chart = pl.col("chart").fill_null(fchart).cast(pl.Float64)
        zero = pl.lit(0.0)
        k = KIND.get(ftype, OTHER)
        if k == 0:
            cols = [pl.col("px"), pl.col("vol"), (pl.col("side") == "BUY").cast(pl.Float64)] + [zero] * 6
        elif k == 1:
            cols = [pl.col("bid"), pl.col("ask")] + [zero] * 7
        elif k == 2:
            cols = [(pl.col("side") == "ASK").cast(pl.Float64), pl.col("lvl"), pl.col("size"), pl.col("price")] \
                + [zero] * 5
        elif k == 3:
            cols = [chart, pl.col("i"), pl.col("o"), pl.col("h"), pl.col("l"), pl.col("c"), pl.col("v"),
                    pl.col("bidvol").fill_null(np.nan), pl.col("askvol").fill_null(np.nan)]
        else:
            cols = [zero] * 9
        frames.append(df.select(
            t.alias("t"), pl.lit(k, pl.Int8).alias("code"),
            *[c.alias(f"x{j}") for j, c in enumerate(cols)],
            (chart if k != OTHER else zero).alias("x9"), zero.alias("x10"),
            pl.col("sym").fill_null(""), pl.col("type").fill_null(ftype)))
    day = pl.concat(frames, how="vertical").sort("t", maintain_order=True)
    code = day["code"].to_numpy()
    other = code == OTHER
    return Day(day["t"].to_numpy(), code, day.select([f"x{j}" for j in range(NCOLS)]).to_numpy(),
               [s for s, o in zip(day["sym"].to_list(), other.tolist()) if not o],
               [s for s, o in zip(day["type"].to_list(), other.tolist()) if o])


# ---- mia's blocks, as a Day -------------------------------------------------------------------------

def mia_day(blocks: list) -> Day:
    """The blocks of one day (``mia.market.columnar.blocks``) as a ``Day``."""
    t = np.concatenate([b.t for b in blocks])
    code = np.concatenate([b.code for b in blocks]).astype(np.int8)
    x = np.concatenate([b.x for b in blocks])
    other = code >= OTHER
    x = np.where(other[:, None], 0.0, x)
    syms, types = [], []
    for b in blocks:
        scanned = b.code < OTHER
        names = np.array(b.syms, dtype=object)
        syms.extend(names[b.x[scanned, SYM].astype(np.int64)].tolist())
        types.extend(b.event(i).type for i in np.flatnonzero(~scanned).tolist())
    code = np.where(other, OTHER, code).astype(np.int8)
    x[:, SYM] = 0.0
    return Day(t, code, x, syms, types)


def same(a: Day, b: Day) -> str | None:
    """None when ``a`` and ``b`` hold the same rows; else the first difference, said."""
    if len(a.t) != len(b.t):
        return f"{len(a.t)} rows against {len(b.t)}"
    if not np.array_equal(a.t, b.t):
        i = int(np.flatnonzero(a.t != b.t)[0])
        return f"row {i}: time {a.t[i]!r} against {b.t[i]!r}"
    if not np.array_equal(a.code, b.code):
        i = int(np.flatnonzero(a.code != b.code)[0])
        return f"row {i}: kind {a.code[i]} against {b.code[i]}"
    scanned = a.code != OTHER
    xa, xb = a.x[scanned], b.x[scanned]
    if not np.array_equal(xa, xb, equal_nan=True):
        i = int(np.flatnonzero(~((xa == xb) | (np.isnan(xa) & np.isnan(xb))).all(axis=1))[0])
        return f"scanned row {i}: {xa[i].tolist()} against {xb[i].tolist()}"
    if a.syms != b.syms:
        return "the symbols differ"
    if a.types != b.types:
        return "the types of the other lines differ"
    return None
