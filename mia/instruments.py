"""Instrument facts (tick size, tick value) and trading sessions, read from config/instruments.yaml.

Which file: ``mia.resources.instruments_path`` (a user's `config/instruments.yaml` beside the
rules or in the current folder, else the shipped one). Each file is read on first use and cached. ``sessions`` holds when a trading day rolls and the
regular trading hours (``trading_day_roll: 18:00 America/New_York``,
``rth: 09:30-16:00 America/New_York``); ``mia.calendar`` reads them from here.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from mia.errors import MiaError
from mia.resources import instruments_path


@dataclass(frozen=True)
class Instrument:
    symbol: str
    tick_size: float
    tick_value: float
    description: str = ""
    #: the Sierra Chart symbol of its contracts, e.g. ``ES{month}{yy}_FUT_CME`` ("" : not said)
    sierra_symbol: str = ""

    @property
    def point_value(self) -> float:
        return self.tick_value / self.tick_size


#: the placeholders of ``sierra_symbol`` and what they stand for
_SYMBOL_PARTS = {"month": "[FGHJKMNQUVXZ]", "yy": "[0-9]{2}", "y": "[0-9]", "yyyy": "[0-9]{4}"}


def symbol_pattern(sierra_symbol: str) -> re.Pattern | None:
    """The symbols ``sierra_symbol`` (``ES{month}{yy}_FUT_CME``) stands for, as a regular
    expression; None when it says nothing (empty) or holds a placeholder other than
    {month}, {yy}, {y}, {yyyy}."""
    if not sierra_symbol:
        return None
    out, last = [], 0
    for m in re.finditer(r"\{(\w*)\}", sierra_symbol):
        part = _SYMBOL_PARTS.get(m.group(1))
        if part is None:
            return None
        out.append(re.escape(sierra_symbol[last:m.start()]) + part)
        last = m.end()
    out.append(re.escape(sierra_symbol[last:]))
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class Sessions:
    """The trading calendar's facts: minutes are after local midnight in their zone."""
    roll_minute: int            # a trading day ends (and the next begins) at this local time ...
    roll_zone: ZoneInfo         # ... of this zone
    rth_open: int               # regular trading hours [open, close) ...
    rth_close: int
    rth_zone: ZoneInfo          # ... in this zone


@functools.lru_cache(maxsize=4)
def _document(path: Path) -> tuple[str, object]:
    try:
        text = path.read_text()
        return text, yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MiaError(f"{path}: error: cannot read instruments: {exc}") from None


def load_instruments(path: Path | None = None) -> dict[str, Instrument]:
    """The instruments of ``path`` (default: ``instruments_path()``)."""
    return _instruments(path or instruments_path())


@functools.lru_cache(maxsize=4)
def _instruments(path: Path) -> dict[str, Instrument]:
    _, data = _document(path)
    out = {}
    for sym, spec in (data if isinstance(data, dict) else {}).items():
        if isinstance(spec, dict) and "tick_size" in spec:
            out[sym] = Instrument(sym, float(spec["tick_size"]), float(spec["tick_value"]),
                                  str(spec.get("description", "")), str(spec.get("sierra_symbol") or ""))
    return out


def instrument(symbol: str) -> Instrument:
    table = load_instruments()
    if symbol not in table:
        raise MiaError(f"unknown instrument '{symbol}' (known: {', '.join(sorted(table))})")
    return table[symbol]


_HHMM = r"([01]?\d|2[0-3]):([0-5]\d)"
_ROLL_RE = re.compile(rf"^{_HHMM}\s+(\S+)$")
_RTH_RE = re.compile(rf"^{_HHMM}\s*-\s*{_HHMM}\s+(\S+)$")


def load_sessions(path: Path | None = None) -> Sessions:
    """The ``sessions:`` entry of ``path`` (default: ``instruments_path()``); a missing or
    malformed one is a ``MiaError`` naming it."""
    return _sessions(path or instruments_path())


@functools.lru_cache(maxsize=4)
def _sessions(path: Path) -> Sessions:
    text, data = _document(path)
    block = data.get("sessions") if isinstance(data, dict) else None
    if not isinstance(block, dict):
        raise MiaError(f"{_where(path, text, ('sessions',))}: error: no 'sessions:' mapping (it needs "
                       "trading_day_roll: 18:00 America/New_York and rth: 09:30-16:00 America/New_York)")

    def field(key: str, pattern: re.Pattern, example: str) -> tuple:
        value = block.get(key)
        m = pattern.match(value.strip()) if isinstance(value, str) else None
        if m is None:
            got = "nothing" if value is None else repr(value)
            raise MiaError(f"{_where(path, text, ('sessions', key))}: error: sessions.{key} must look like "
                           f"'{example}', got {got}")
        *hm, zone = m.groups()
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise MiaError(f"{_where(path, text, ('sessions', key))}: error: sessions.{key}: unknown time zone "
                           f"'{zone}'") from None
        return [int(h) * 60 + int(m) for h, m in zip(hm[::2], hm[1::2])], tz

    (roll,), roll_zone = field("trading_day_roll", _ROLL_RE, "18:00 America/New_York")
    (rth_open, rth_close), rth_zone = field("rth", _RTH_RE, "09:30-16:00 America/New_York")
    if rth_open >= rth_close:
        raise MiaError(f"{_where(path, text, ('sessions', 'rth'))}: error: sessions.rth must open before it "
                       "closes (within one day)")
    return Sessions(roll, roll_zone, rth_open, rth_close, rth_zone)


def _where(path: Path, text: str, keys: tuple[str, ...]) -> str:
    """``path:line:col`` of the value at ``keys`` (as deep as it exists), else ``path``."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return str(path)
    mark = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        for k, v in node.value:
            if k.value == key:
                node, mark = v, v.start_mark
                break
        else:
            break
    return f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
