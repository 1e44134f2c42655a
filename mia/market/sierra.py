"""Sierra Chart JSONL lines -> ``Event``s, and the tally of lines that could not be used.

The one place where a line's fields are validated: every field a consumer reads (``events``:
REQUIRED, OPTIONAL, CHOICES, SIZE_FIELDS, VOLUME_FIELDS, PRICE_FIELDS) is checked here, for every
reader (replay, the columnar reader's slow path, the live tail), so a line that passes cannot
break a consumer. A bad line (invalid JSON, NaN / Infinity, unknown type, a missing or non-numeric
field, a text field that is not a string, a side that is not BUY/SELL (trade) or BID/ASK (depth),
a size that is not whole or out of bounds, a non-positive price, a time outside 1970-2100 or
outside its file's trading day) raises ``BadLine`` with a short reason; readers count it per file
and reason in ``BadLines`` and go on. The rules between lines (order, duplicates, bar indexes,
the price band) are ``mia.market.judge``'s. Nothing about one line is ever fatal. A line in the
seed 002 layout (ISO ``ts``, ``open/high/...``, ``menthorq_gamma_levels`` with a ``label``) is
rewritten into the common one first (``mia.market.layout002``).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import orjson

from mia.errors import MiaError
from mia.market.layout002 import Refused, chart_of, is_other_layout, rewrite, sc_of
from mia.market.events import (CHOICES, MAX_BAR_VOLUME, MAX_SIZE, OPTIONAL, PRICE_FIELDS, REQUIRED, SIZE_FIELDS,
                               TEXT_FIELDS, VOLUME_FIELDS, Event)
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
    """Counts of skipped lines per (file, reason); ``bytes``: the bytes that went with a
    ``partial_line`` (a file whose lines end in CR only is one partial line: this says how big)."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.bytes: Counter = Counter()

    def add(self, path: str, reason: str, nbytes: int = 0) -> None:
        self.counts[(path, reason)] += 1
        if nbytes:
            self.bytes[(path, reason)] += nbytes

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


def _real_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return True


def file_kind(path: str | Path) -> tuple[int | None, str | None, str | None]:
    """(chart, type, YYYYMMDD) from a file name; the type is None for a unified file; all None for
    a name that is not a Sierra file's (or whose date does not exist: ``name_problem`` says why)."""
    name = Path(path).name
    m = FILE_RE.match(name)
    if m:
        return (int(m.group(1)), m.group(2), m.group(3)) if _real_date(m.group(3)) else (None, None, None)
    m = UNIFIED_RE.match(name)
    if m:
        return (None, None, m.group(1)) if _real_date(m.group(1)) else (None, None, None)
    return None, None, None


def name_problem(path: str | Path) -> str | None:
    """Why a file that looks like market data is not read (None: it is a Sierra file, or it does
    not look like data at all): an impossible date, or a name in another case."""
    name = Path(path).name
    m = FILE_RE.match(name) or UNIFIED_RE.match(name)
    if m:
        day = m.groups()[-1]
        return None if _real_date(day) else f"its date {day} does not exist"
    lower = name.lower()
    if FILE_RE.match(lower) or UNIFIED_RE.match(lower):
        return ("the name is not in lower case (expected chart_<N>_<type>_<YYYYMMDD>.jsonl or "
                "mia_unified_<YYYYMMDD>.jsonl)")
    if lower.endswith(".jsonl") and not name.startswith("."):
        return ("not a Sierra Chart JSONL file (expected chart_<N>_<type>_<YYYYMMDD>.jsonl or "
                "mia_unified_<YYYYMMDD>.jsonl)")
    return None


#: a file's lines may lie this far outside its trading day (a dumper that starts files at midnight
#: of its own zone, or of UTC, writes the evening of the trading day before into them)
DAY_SLACK_S = 2 * 3600.0


def day_window(day: str) -> tuple[float, float]:
    """The UTC epochs a line of a file named for ``day`` (YYYYMMDD) may carry: its trading day
    (``mia.calendar``: from the roll the evening before) and its calendar date in the trading
    day's zone, widened by DAY_SLACK_S either side."""
    from mia.calendar import day_bounds, sessions

    zone = sessions().roll_zone
    d = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    noon = datetime(d.year, d.month, d.day, 12, tzinfo=zone).timestamp()
    _, start, end = day_bounds(noon)
    midnight = datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()
    nxt = d + timedelta(days=1)
    next_midnight = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp()
    return min(start, midnight) - DAY_SLACK_S, max(end, next_midnight) + DAY_SLACK_S


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
        v = d.get(key)
        if type(v) is not str:
            return "missing_field" if v is None else "bad_field"
    for key in _OPT_NUMERIC[typ]:
        if type(d.get(key, 0)) not in _NUMSET:
            return "non_numeric_field"
    for key in _OPT_TEXT[typ]:
        if type(d.get(key, "")) is not str:
            return "bad_field"
    for key, words in CHOICES.get(typ, {}).items():
        if d.get(key) not in words:
            return "bad_side" if key == "side" else "bad_field"
    if typ in SIZE_FIELDS:
        key, floor = SIZE_FIELDS[typ]
        if not (floor < d[key] <= MAX_SIZE and d[key] % 1 == 0):
            return "bad_size"
    for key in VOLUME_FIELDS.get(typ, ()):
        v = d.get(key, 0)
        if not (0 <= v <= MAX_BAR_VOLUME and v % 1 == 0):
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
    conds += [f"type(d.get({k!r})) is str" for k in _TEXT[typ]]
    conds += [f"type(d.get({k!r}, 0)) in NUM" for k in _OPT_NUMERIC[typ]]
    conds += [f"type(d.get({k!r}, '')) is str" for k in _OPT_TEXT[typ]]
    conds += [f"d.get({k!r}) in {words!r}" for k, words in CHOICES.get(typ, {}).items()]
    if typ in SIZE_FIELDS:
        key, floor = SIZE_FIELDS[typ]
        conds.append(f"{floor!r} < d[{key!r}] <= MAX_SIZE and d[{key!r}] % 1 == 0")
    conds += [f"0 <= d.get({k!r}, 0) <= MAX_VOL and d.get({k!r}, 0) % 1 == 0" for k in VOLUME_FIELDS.get(typ, ())]
    conds += [f"0 < d[{k!r}] < INF" for k in PRICE_FIELDS.get(typ, ())]
    if typ == "vix":
        conds.append("vix_ok(d)")
    return eval("lambda d, t: " + " and ".join(conds),
                {"NUM": _NUMSET, "INF": _INF, "T_MIN": SC_MIN, "T_MAX": SC_MAX, "vix_ok": _vix_ok,
                 "MAX_SIZE": MAX_SIZE, "MAX_VOL": MAX_BAR_VOLUME})


_NUMSET = frozenset((int, float))
_INF = math.inf
_NUMERIC = {typ: tuple(k for k in req if k not in TEXT_FIELDS) for typ, req in REQUIRED.items()}
_TEXT = {typ: tuple(k for k in req if k in TEXT_FIELDS) for typ, req in REQUIRED.items()}
_OPT_NUMERIC = {typ: tuple(k for k in OPTIONAL.get(typ, ()) if k not in TEXT_FIELDS) for typ in REQUIRED}
_OPT_TEXT = {typ: tuple(k for k in OPTIONAL.get(typ, ()) if k in TEXT_FIELDS) + ("sym",) for typ in REQUIRED}
_CHECK = {typ: _compile_check(typ) for typ in REQUIRED}
_UNIX_DAYS = 25569.0
_new = tuple.__new__


class LineParser:
    """Parses the lines of one file (type and chart from its name, or None for a unified file).

    Same rules as ``parse_line``; faster for bulk: one generated check per type, and the zone's
    UTC offset cached per local hour (a DST change falls on an hour, so it is honoured exactly).
    """

    def __init__(self, file_type: str | None = None, chart: int | None = None,
                 zones: dict[str, str] | None = None, day: str | None = None):
        self.file_type = file_type
        self.chart = chart
        zones = zones or DEFAULT_ZONES
        self._zone = {typ: zone_for(typ, zones) for typ in REQUIRED}
        self._offsets: dict[tuple[str, int], float] = {}
        #: the UTC epochs a line may carry (``day_window`` of the file's day): else ``wrong_day``
        self.lo, self.hi = day_window(day) if day is not None else (-_INF, _INF)

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
        check = _CHECK.get(typ) if type(typ) is str else None
        t = d.get("t")
        if check is None or not check(d, t):
            return self.other(d, typ, check, t)
        epoch = self.epoch(t, typ)
        if not self.lo <= epoch <= self.hi:
            raise BadLine("wrong_day")
        ch = d.get("chart", self.chart)
        return _new(Event, (epoch, typ, ch if type(ch) is int else self._chart(d), d.get("sym", ""), d))

    def _chart(self, d: dict) -> int:
        """The chart of a line whose ``chart`` is not an integer: a digit string or ``graph``,
        else its file's (0 for a unified file)."""
        ch = chart_of(d)
        return ch if ch is not None else (self.chart or 0)

    def other(self, d: dict, typ, check, t) -> Event:
        """A line the common check refused: the seed 002 layout rewritten (``layout002``), or
        the reason it is bad. Raises BadLine."""
        if check is None and not (type(typ) is str and is_other_layout(d, typ)):
            raise BadLine("unknown_type")
        if not is_other_layout(d, typ):
            raise BadLine(_reason(d, typ, t))
        try:
            d, typ, epoch = rewrite(d, typ, self._zone_of)
        except Refused as exc:
            raise BadLine(exc.reason) from None
        check = _CHECK.get(typ)
        if check is None:
            raise BadLine("unknown_type")
        if epoch is not None:
            t = sc_of(epoch)
        if not check(d, t):
            raise BadLine(_reason(d, typ, t))
        if epoch is None:
            epoch = self.epoch(t, typ)
        if not self.lo <= epoch <= self.hi:
            raise BadLine("wrong_day")
        ch = d.get("chart", self.chart)
        return _new(Event, (epoch, typ, ch if type(ch) is int else self._chart(d), d.get("sym", ""), d))

    def _zone_of(self, typ: str) -> str:
        return self._zone.get(typ, "UTC")

    def batch(self, lines, bad) -> list[Event]:
        """The events of complete ``lines`` (bytes, no newline); ``bad(reason)`` for each bad one.

        Blank lines are skipped silently. This is the replay's hot loop: keep it flat.
        """
        out: list[Event] = []
        append = out.append
        loads, JSONError, checks, zone_of, offsets = _loads, _JSONError, _CHECK, self._zone, self._offsets
        ftype, fchart = self.file_type, self.chart
        lo, hi = self.lo, self.hi
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
            check = checks.get(typ) if type(typ) is str else None
            t = d.get("t")
            if check is None or not check(d, t):
                try:                               # seed 002's layout, or a bad line
                    append(self.other(d, typ, check, t))
                except BadLine as exc:
                    bad(exc.reason)
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
            if not lo <= local <= hi:
                bad("wrong_day")
                continue
            ch = d.get("chart", fchart)
            append(_new(Event, (local, typ, ch if type(ch) is int else self._chart(d), d.get("sym", ""), d)))
        return out


def parse_line(raw: bytes | str, file_type: str | None = None, chart: int | None = None,
               zones: dict[str, str] | None = None, day: str | None = None) -> Event:
    """One JSONL line -> Event; raises BadLine. ``file_type``/``chart``/``day`` come from the file
    name (chart 4 lines carry no ``type``); ``zones`` maps type -> zone of its ``t`` (``DEFAULT_ZONES``)."""
    return LineParser(file_type, chart, zones, day).one(raw)
