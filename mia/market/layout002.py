"""The seed 002 layout of the Sierra Chart dumps, rewritten into the common one.

Seed 002 shows the same dumps with other names (domain.md): ``ts`` an ISO-8601 time string
(``"2025-01-07T10:30:00Z"``) instead of the SCDateTime ``t``; basedata with ``open``, ``high``,
``low``, ``close``, ``volume`` and no bar index; VIX with ``last`` and ``policy``; MenthorQ as
``type: menthorq_gamma_levels`` (or ``menthorq_blind_spots``, ``menthorq_swing_levels``) with a
``label`` ("Call Resistance", "Blind Spot 3", "GEX 2") and ``price``; ``chart`` as a string
("3") or ``graph``. ``rewrite`` turns such a line into the fields, type and time the parser's
common path takes, so every reader (replay, the columnar reader's slow path, the live tail)
reads both layouts the same way. It runs only for a line the common check refused, so the
common layout costs nothing more.

Choices: an ISO time with an offset (``Z``, ``+01:00``) is that instant; without one it is in the
type's zone (as an SCDateTime is). A basedata line without ``i`` is numbered by the minute it
opens, as the feature engine places a bar (``(epoch + SC_SLACK) // 60``: a new minute is a new
bar; study lines of that layout carry the same numbers). Labels are matched without case, spaces, ``_`` or
``-``; numbered ones are 1-based as the trader and MenthorQ's study write them: "Blind Spot 1" to
"Blind Spot 10" (also "BL 1".."BL 10") are ``blind_spot_0``..``blind_spot_9``, "GEX 1".."GEX 10"
``gex_1``..``gex_10``; a number outside 1-10 is a bad line (``bad_field``), never a shifted
level. Another label is kept as its words joined by ``_`` (a level mia has no feature for).
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from mia.market.sctime import SC_SLACK

#: seed 002's MenthorQ types -> the common one
TYPE_ALIASES = {"menthorq_gamma_levels": "menthorq_level", "menthorq_blind_spots": "menthorq_level",
                "menthorq_swing_levels": "menthorq_level"}
#: seed 002's basedata fields -> the common ones
BAR_FIELDS = (("open", "o"), ("high", "h"), ("low", "l"), ("close", "c"), ("volume", "v"))
#: label (lower case, single spaces) -> level_type
LABELS = {
    "call resistance": "call_resistance", "put support": "put_support",
    "hvl": "hvl", "high vol level": "hvl", "high volatility level": "hvl",
    "1d min": "1d_min", "1d max": "1d_max", "1 day min": "1d_min", "1 day max": "1d_max",
    "call resistance 0dte": "call_resistance_0dte", "0dte call resistance": "call_resistance_0dte",
    "put support 0dte": "put_support_0dte", "0dte put support": "put_support_0dte",
    "hvl 0dte": "hvl_0dte", "0dte hvl": "hvl_0dte",
    "gamma wall 0dte": "gamma_wall_0dte", "0dte gamma wall": "gamma_wall_0dte",
}
_NUMBERED = re.compile(r"^(gex|blind spot|bl)\s?([0-9]+)$")
_SEPARATORS = re.compile(r"[\s_\-]+")
_UNIX_DAYS = 25569.0


class Refused(Exception):
    """The line is in seed 002's layout but one of its fields is unusable (``reason``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def level_type(label: str) -> str:
    """The ``level_type`` a MenthorQ label names (module docstring); ``Refused`` for a numbered
    label out of 1-10."""
    words = _SEPARATORS.sub(" ", label.strip().lower())
    known = LABELS.get(words)
    if known is not None:
        return known
    m = _NUMBERED.match(words)
    if m:
        k = int(m.group(2))
        if not 1 <= k <= 10:
            raise Refused("bad_field")
        return f"gex_{k}" if m.group(1) == "gex" else f"blind_spot_{k - 1}"
    return words.replace(" ", "_")


def epoch_of(ts: object, zone: str) -> float:
    """UTC epoch seconds of an ISO-8601 time string; ``Refused("bad_time")`` when it is not one."""
    if type(ts) is not str:
        raise Refused("bad_time")
    try:
        d = datetime.fromisoformat(ts)
    except ValueError:
        raise Refused("bad_time") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=ZoneInfo(zone))
    return d.timestamp()


def _chart(v: object) -> int | None:
    if type(v) is int:
        return v
    if type(v) is str and v.isascii() and v.isdigit() and len(v) < 10:
        return int(v)
    return None


def chart_of(d: dict) -> int | None:
    """A line's chart number: an integer ``chart``, or a digit string, or ``graph`` (None: none)."""
    ch = _chart(d.get("chart"))
    return ch if ch is not None else _chart(d.get("graph"))


def is_other_layout(d: dict, typ: object) -> bool:
    """Whether the line looks like seed 002's layout (so ``rewrite`` applies)."""
    return ("t" not in d and "ts" in d) or typ in TYPE_ALIASES or (
        typ == "basedata" and "o" not in d and "open" in d) or (typ == "menthorq_level" and "level_type" not in d
                                                               and "label" in d)


def rewrite(d: dict, typ: str, zone_of) -> tuple[dict, str, float | None]:
    """(fields, type, UTC epoch or None) of a seed-002 line in the common layout; the epoch is
    None when the line has its SCDateTime ``t`` (the caller converts it). ``zone_of(type)``: the
    zone of a time without an offset. ``Refused`` says why a field of it cannot be used."""
    f = dict(d)
    typ = TYPE_ALIASES.get(typ, typ)
    f["type"] = typ
    if typ == "menthorq_level" and "level_type" not in f and "label" in f:
        if type(f["label"]) is not str:
            raise Refused("bad_field")
        f["level_type"] = level_type(f["label"])
    if typ == "basedata":
        for long, short in BAR_FIELDS:
            if short not in f and long in f:
                f[short] = f[long]
    ch = chart_of(d)
    if ch is not None:
        f["chart"] = ch
    epoch = None
    if "t" not in d:
        epoch = epoch_of(d.get("ts"), zone_of(typ))
        if typ == "basedata" and "i" not in f:
            f["i"] = int((epoch + SC_SLACK) // 60.0)
    return f, typ, epoch


def sc_of(epoch: float) -> float:
    """An SCDateTime (UTC) for an epoch: what the common check's time bounds read."""
    return epoch / 86400.0 + _UNIX_DAYS
