"""Helpers of the hostile data suites: Sierra lines written by hand, a small simulated day to
spoil, and ``every_path``: a folder read by each reader mia has (replay, the columnar reader at
several chunk sizes, the day cache cold and warm, the live tail's first poll), which must agree
event for event and bad line for bad line."""
from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

import mia.market.columnar.blocks as blocks_mod
from mia.features.batch import compute_features
from mia.market.columnar.blocks import blocks
from mia.market.columnar.daycache import DayCache
from mia.market.replay import replay
from mia.market.sctime import epoch_to_sc
from mia.market.sierra import BadLines
from mia.market.sim import SimConfig, simulate
from mia.market.tail import Tail

NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 11, 20, 10, 0, tzinfo=NY).timestamp()
DAY = "20251120"
SYM = "ESZ25_FUT_CME"
_seq = itertools.count(1)


def sc(t: float, zone: str = "UTC") -> float:
    return round(epoch_to_sc(t, zone), 6)


def line(**d) -> str:
    return json.dumps(d) + "\n"


def trade(t, px, vol=1, side="BUY", seq=None, **more):
    return line(t=sc(t), sym=SYM, type="trade", side=side, px=px, vol=vol,
                seq=next(_seq) if seq is None else seq, tt=2, chart=3, **more)


def quote(t, bid, seq=None, **more):
    return line(t=sc(t), sym=SYM, type="quote", kind="BIDASK", bid=bid, ask=bid + 0.25, bq=3, aq=4,
                seq=next(_seq) if seq is None else seq, chart=3, **more)


def bar(t, i, c, **more):
    fields = dict(t=sc(t, "America/New_York"), sym=SYM, type="basedata", i=i, o=c, h=c + 0.5, l=c - 0.5, c=c,
                  v=10, bidvol=4, askvol=6, chart=3)
    fields.update(more)
    return line(**fields)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def sim_day(root: Path, minutes: int = 20, seed: int = 3) -> Path:
    """A simulated day folder (``root/20251120``) to spoil."""
    folder = root / DAY
    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=seed, minutes=minutes), folder)
    return folder


def copy_day(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def event_key(e) -> tuple:
    """What a consumer sees of an event (every field a reader vouches for; a scanned row's fields
    are those the columnar reader keeps)."""
    f = e.f
    if e.type == "trade":
        fields = (f["side"], float(f["px"]), float(f["vol"]))
    elif e.type == "quote":
        fields = (float(f["bid"]), float(f["ask"]))
    elif e.type == "depth":
        fields = (f["side"], float(f["lvl"]), float(f["price"]), float(f["size"]))
    elif e.type == "basedata":
        fields = tuple(float(f[k]) for k in ("i", "o", "h", "l", "c", "v"))
    else:
        fields = tuple(sorted((k, json.dumps(v)) for k, v in f.items()))
    return (round(e.t, 6), e.type, e.chart, fields)


def every_path(paths: list[Path], tmp: Path, chunks=(1 << 20, 1 << 14), tail: bool = True) -> tuple[list, dict]:
    """The events (``event_key``) and bad lines by reason of ``paths`` (day folders or files);
    asserts that every reader gives the same (``tail``: the live tail's first poll too, for data
    whose streams do not end on a line still waiting for its next one)."""
    bad = BadLines()
    want = [event_key(e) for e in replay(paths, bad=bad)]
    reasons = bad.by_reason()
    for chunk in chunks:
        old = blocks_mod.CHUNK, blocks_mod.PARSED_CHUNK
        blocks_mod.CHUNK = blocks_mod.PARSED_CHUNK = chunk
        try:
            got, b = _blocks(paths, None)
        finally:
            blocks_mod.CHUNK, blocks_mod.PARSED_CHUNK = old
        assert got == want, f"columnar reader, chunk {chunk}"
        assert b.by_reason() == reasons, f"columnar reader, chunk {chunk}"
    cache = DayCache(tmp / f"cache{next(_seq)}")
    for what in ("cold", "warm"):
        got, b = _blocks(paths, cache)
        assert got == want, f"day cache, {what}"
        assert b.by_reason() == reasons, f"day cache, {what}"
    if tail and len(paths) == 1 and Path(paths[0]).is_dir():
        tail = Tail(Path(paths[0]))
        got = [event_key(e) for e in tail.poll()]
        assert got == want, "live tail"
        assert tail.bad.by_reason() == reasons, "live tail"
    return want, reasons


def _blocks(paths, cache) -> tuple[list, BadLines]:
    bad = BadLines()
    out = []
    for b in blocks(paths, bad=bad, cache=cache):
        out += [event_key(b.event(i)) for i in range(len(b.t))]
    return out, bad


def features(paths) -> np.ndarray:
    """The feature rows the engine gives over ``paths`` (columnar reader), NaN as NaN."""
    return compute_features(list(paths)).matrix


def same_features(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
