"""Helpers for the simulator tests: write a small session, parse it with plain orjson, convert times."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from mia.market.sim import SimConfig, simulate

DAY = dt.date(2025, 11, 20)
SYM = "ESZ25_FUT_CME"


def session_bounds(day: dt.date, minutes: int) -> tuple[float, float]:
    """UTC epoch seconds of 09:30 New York and of the session end."""
    start = dt.datetime.combine(day, dt.time(9, 30), tzinfo=ZoneInfo("America/New_York")).timestamp()
    return start, start + minutes * 60


def ny_offset(day: dt.date) -> float:
    off = dt.datetime.combine(day, dt.time(12), tzinfo=ZoneInfo("America/New_York")).utcoffset()
    return off.total_seconds()


def epoch_ms(t: float, zone_offset_s: float = 0.0) -> int:
    """SCDateTime (written in a zone with that UTC offset) -> UTC epoch milliseconds, rounded."""
    return round(((t - 25569) * 86400 - zone_offset_s) * 1000)


class Session:
    """A written session folder, parsed: lines per file name, in file order."""

    def __init__(self, folder: Path, cfg: SimConfig):
        self.folder, self.cfg = folder, cfg
        self.files = {p.name: [orjson.loads(line) for line in p.read_bytes().splitlines()]
                      for p in sorted(folder.glob("*.jsonl"))}
        self.raw = {p.name: p.read_bytes() for p in sorted(folder.glob("*.jsonl"))}
        self.start, self.end = session_bounds(cfg.day, cfg.minutes)
        self.ny = ny_offset(cfg.day)

    def of(self, chart: int, kind: str) -> list[dict]:
        return self.files[f"chart_{chart}_{kind}_{self.cfg.day:%Y%m%d}.jsonl"]

    def final_bars(self) -> dict[int, dict]:
        out = {}
        for line in self.of(3, "basedata"):
            out[line["i"]] = line
        return out

    def trades_by_minute(self) -> dict[int, list[dict]]:
        """Trades grouped by the NY minute start (UTC epoch ms) they fall in."""
        out = defaultdict(list)
        for tr in self.of(3, "trade"):
            ms = epoch_ms(tr["t"])
            out[ms - ms % 60000].append(tr)
        return out


def write_session(folder: Path, **kw) -> Session:
    cfg = SimConfig(day=kw.pop("day", DAY), **kw)
    simulate(cfg, folder)
    return Session(folder, cfg)
