"""Sierra Chart JSONL lines -> ``Event``s, and the tally of lines that could not be used.

A bad line (invalid JSON, NaN / Infinity, unknown type, a missing or non-numeric field, a side
that is not BUY/SELL (trade) or BID/ASK (depth), a trade volume <= 0 or a negative depth size, a
non-positive price, a time outside 1970-2100 or too far out of order) raises ``BadLine`` with a
short reason; readers count it per file and reason in ``BadLines`` and go on. Nothing about one
line is ever fatal.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import orjson

from mia.errors import MiaError
from mia.market.events import CHOICES, PRICE_FIELDS, REQUIRED, SIZE_FIELDS, TEXT_FIELDS, Event
from mia.market.sctime import DEFAULT_ZONES, SC_MAX, SC_MIN, sc_to_epoch, zone_for

_loads = orjson.loads
_JSONError = orjson.JSONDecodeError

FILE_RE = re.compile(r"^chart_(\d+)_([a-z_]+)_(\d{8})\.jsonl$")
UNIFIED_RE = re.compile(r"^mia_unified_(\d{8})\.jsonl$")


class BadLine(MiaError):
    """One unusable line; ``reason`` is a short snake_case word (the tally's key)."""

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


def _num(v) -> bool:
    return type(v) in _NUMSET


def _reason(d: dict, typ: str, t) -> str:
    """Why a line of a known type failed the fast check (the slow, readable path)."""
    if type(t) not in _NUMSET or not SC_MIN < t < SC_MAX:
        return "bad_time"
    for key in _NUMERIC[typ]:
        v = d.get(key)
        if type(v) not in _NUMSET:
            return "missing_field" if v is None else "non_numeric_field"
    for key in _TEXT[typ]:
        if d.get(key) is None:
            return "missing_field"
    for key, words in CHOICES.get(typ, {}).items():
        if d.get(key) not in words:
            return "bad_side" if key == "side" else "bad_field"
    if typ in SIZE_FIELDS:
        key, floor = SIZE_FIELDS[typ]
        if not floor < d[key] < _INF:
            return "bad_size"
    return "bad_price"


def _json_reason(raw) -> str:
    """Why orjson refused a line: NaN / Infinity (not JSON, but what some writers emit) or anything else."""
    text = raw if isinstance(raw, (bytes, bytearray)) else str(raw).encode("utf-8", "replace")
    return "nan_value" if b"NaN" in text or b"Infinity" in text else "invalid_json"


def _vix_ok(d: dict) -> bool:
    v = d.get("last", d.get("vix"))
    return type(v) in _NUMSET and 0 < v < _INF


def _compile_check(typ: str):
    """One generated boolean expression per type: every check of a good line in a single call."""
    conds = ["type(t) in NUM", "T_MIN < t < T_MAX"]
    conds += [f"type(d.get({k!r})) in NUM" for k in _NUMERIC[typ]]
    conds += [f"d.get({k!r}) is not None" for k in _TEXT[typ]]
    conds += [f"d.get({k!r}) in {words!r}" for k, words in CHOICES.get(typ, {}).items()]
    if typ in SIZE_FIELDS:
        key, floor = SIZE_FIELDS[typ]
        conds.append(f"{floor!r} < d[{key!r}] < INF")
    conds += [f"0 < d[{k!r}] < INF" for k in PRICE_FIELDS.get(typ, ())]
    if typ == "vix":
        conds.append("vix_ok(d)")
    return eval("lambda d, t: " + " and ".join(conds),
                {"NUM": _NUMSET, "INF": _INF, "T_MIN": SC_MIN, "T_MAX": SC_MAX, "vix_ok": _vix_ok})


_NUMSET = frozenset((int, float))
_INF = math.inf
_NUMERIC = {typ: tuple(k for k in req if k not in TEXT_FIELDS) for typ, req in REQUIRED.items()}
_TEXT = {typ: tuple(k for k in req if k in TEXT_FIELDS) for typ, req in REQUIRED.items()}
_CHECK = {typ: _compile_check(typ) for typ in REQUIRED}
_UNIX_DAYS = 25569.0
_new = tuple.__new__


class LineParser:
    """Parses the lines of one file (type and chart from its name, or None for a unified file).

    Same rules as ``parse_line``; faster for bulk: one generated check per type, and the zone's
    UTC offset cached per local hour (a DST change falls on an hour, so it is honoured exactly).
    """

    def __init__(self, file_type: str | None = None, chart: int | None = None,
                 zones: dict[str, str] | None = None):
        self.file_type = file_type
        self.chart = chart
        zones = zones or DEFAULT_ZONES
        self._zone = {typ: zone_for(typ, zones) for typ in REQUIRED}
        self._offsets: dict[tuple[str, int], float] = {}

    def epoch(self, t: float, typ: str) -> float:
        zone = self._zone[typ]
        local = (t - _UNIX_DAYS) * 86400.0
        if zone == "UTC":
            return local
        key = (zone, int(local // 3600))
        off = self._offsets.get(key)
        if off is None:
            off = self._offsets[key] = local - sc_to_epoch(t, zone)
        return local - off

    def one(self, raw: bytes | str) -> Event:
        """One line -> Event; raises BadLine."""
        try:
            d = _loads(raw)
        except _JSONError:
            raise BadLine(_json_reason(raw)) from None
        if type(d) is not dict:
            raise BadLine("invalid_json")
        typ = d.get("type") or self.file_type
        check = _CHECK.get(typ)
        if check is None:
            raise BadLine("unknown_type")
        t = d.get("t")
        if not check(d, t):
            raise BadLine(_reason(d, typ, t))
        ch = d.get("chart", self.chart)
        return _new(Event, (self.epoch(t, typ), typ, ch if type(ch) is int else (self.chart or 0),
                            d.get("sym", ""), d))

    def batch(self, lines, bad) -> list[Event]:
        """The events of complete ``lines`` (bytes, no newline); ``bad(reason)`` for each bad one.

        Blank lines are skipped silently. This is the replay's hot loop: keep it flat.
        """
        out: list[Event] = []
        append = out.append
        loads, JSONError, checks, zone_of, offsets = _loads, _JSONError, _CHECK, self._zone, self._offsets
        ftype, fchart = self.file_type, self.chart
        dchart = fchart or 0
        last_hour, last_zone, off = None, None, 0.0
        for raw in lines:
            try:
                d = loads(raw)
            except JSONError:
                if raw.strip():
                    bad(_json_reason(raw))
                continue
            if type(d) is not dict:
                bad("invalid_json")
                continue
            typ = d.get("type") or ftype
            check = checks.get(typ)
            if check is None:
                bad("unknown_type")
                continue
            t = d.get("t")
            if not check(d, t):
                bad(_reason(d, typ, t))
                continue
            zone = zone_of[typ]
            local = (t - 25569.0) * 86400.0
            if zone != "UTC":
                hour = local // 3600.0
                if hour != last_hour or zone != last_zone:
                    key = (zone, int(hour))
                    off = offsets.get(key)
                    if off is None:
                        off = offsets[key] = local - sc_to_epoch(t, zone)
                    last_hour, last_zone = hour, zone
                local -= off
            ch = d.get("chart", fchart)
            append(_new(Event, (local, typ, ch if type(ch) is int else dchart, d.get("sym", ""), d)))
        return out


def parse_line(raw: bytes | str, file_type: str | None = None, chart: int | None = None,
               zones: dict[str, str] | None = None) -> Event:
    """One JSONL line -> Event; raises BadLine. ``file_type``/``chart`` come from the file name
    (chart 4 lines carry no ``type``); ``zones`` maps type -> zone of its ``t`` (``DEFAULT_ZONES``)."""
    return LineParser(file_type, chart, zones).one(raw)
