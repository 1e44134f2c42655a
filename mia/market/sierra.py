"""Sierra Chart JSONL lines -> ``Event``s, and the tally of lines that could not be used.

A bad line (invalid JSON, unknown type, a missing or non-numeric field, a NaN or non-positive
price, a time too far out of order) raises ``BadLine`` with a short reason; readers count it per
file and reason in ``BadLines`` and go on. Nothing about one line is ever fatal.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import orjson

from mia.market.events import PRICE_FIELDS, REQUIRED, TEXT_FIELDS, Event
from mia.market.sctime import DEFAULT_ZONES, sc_to_epoch

FILE_RE = re.compile(r"^chart_(\d+)_([a-z_]+)_(\d{8})\.jsonl$")
UNIFIED_RE = re.compile(r"^mia_unified_(\d{8})\.jsonl$")


class BadLine(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BadLines:
    """Counts of skipped lines per (file, reason)."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def add(self, path: str, reason: str) -> None:
        self.counts[(path, reason)] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_reason(self) -> dict[str, int]:
        out: Counter = Counter()
        for (_, reason), n in self.counts.items():
            out[reason] += n
        return dict(sorted(out.items()))

    def by_file(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (path, reason), n in sorted(self.counts.items()):
            out.setdefault(path, {})[reason] = n
        return out


def file_kind(path: str | Path) -> tuple[int | None, str | None, str | None]:
    """(chart, type, YYYYMMDD) from a file name; the type is None for a unified file."""
    name = Path(path).name
    m = FILE_RE.match(name)
    if m:
        return int(m.group(1)), m.group(2), m.group(3)
    m = UNIFIED_RE.match(name)
    if m:
        return None, None, m.group(1)
    return None, None, None


_NUMBER_TYPES = (int, float)
_ISFINITE = math.isfinite
# per type: the fields checked as numbers, and the prices (finite, > 0)
_NUMERIC = {typ: tuple(k for k in req if k not in TEXT_FIELDS) for typ, req in REQUIRED.items()}
_TEXT = {typ: tuple(k for k in req if k in TEXT_FIELDS) for typ, req in REQUIRED.items()}


def _num(v) -> bool:
    return type(v) in _NUMBER_TYPES


def parse_line(raw: bytes | str, file_type: str | None = None, chart: int | None = None,
               zones: dict[str, str] | None = None) -> Event:
    """One JSONL line -> Event; raises BadLine. ``file_type``/``chart`` come from the file name."""
    try:
        d = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadLine("invalid_json") from None
    if type(d) is not dict:
        raise BadLine("invalid_json")
    typ = d.get("type") or file_type
    numeric = _NUMERIC.get(typ)
    if numeric is None:
        raise BadLine("unknown_type")
    t = d.get("t")
    if type(t) not in _NUMBER_TYPES or not t > 0 or not _ISFINITE(t):
        raise BadLine("bad_time")
    for key in numeric:
        v = d.get(key)
        if type(v) not in _NUMBER_TYPES:
            raise BadLine("missing_field" if v is None else "non_numeric_field")
    for key in _TEXT[typ]:
        if d.get(key) is None:
            raise BadLine("missing_field")
    for key in PRICE_FIELDS.get(typ, ()):
        v = d[key]
        if not v > 0 or not _ISFINITE(v):
            raise BadLine("bad_price")
    if typ == "vix":
        v = d.get("last", d.get("vix"))
        if type(v) not in _NUMBER_TYPES or not v > 0 or not _ISFINITE(v):
            raise BadLine("bad_price")
    zones = zones or DEFAULT_ZONES
    zone = zones.get(typ) or zones.get("*", "UTC")
    ch = d.get("chart", chart)
    return Event(sc_to_epoch(t, zone), typ, ch if type(ch) is int else (chart or 0), d.get("sym", ""), d)
