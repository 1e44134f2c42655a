"""Sierra Chart SCDateTime <-> UTC epoch seconds, in the zone each source writes.

An SCDateTime is a float: days since 1899-12-30 00:00, in the chart's (or the source's) local
time. Which zone a source writes is configuration, never assumed: trade and quote dumpers often
write UTC while bars and studies write chart-local time. ``DEFAULT_ZONES`` is the map the
simulator writes and the readers assume unless the feed config says otherwise.

Conversion is hot (every line of a replay): the UTC offset is cached per zone and local hour,
so a DST change is honoured to the hour without a zoneinfo call per line.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SC_EPOCH = datetime(1899, 12, 30)
#: SCDateTime of 1970-01-01 00:00 (naive): days between 1899-12-30 and the Unix epoch.
_UNIX_DAYS = (datetime(1970, 1, 1) - SC_EPOCH).days  # 25569
SECONDS_PER_DAY = 86400.0
#: the SCDateTimes a line may carry: 1970-01-01 to 2100-01-01 (anything else is a bad time,
#: not a date to convert)
SC_MIN = float(_UNIX_DAYS)
SC_MAX = float((datetime(2100, 1, 1) - SC_EPOCH).days)

#: an SCDateTime with 6 decimals is exact to about 86 ms either way: a bar stamped 09:31:00 may
#: read 09:30:59.96, so a bar start is floored to the grid after adding this much
SC_SLACK = 0.1

#: event type -> zone of its ``t``; "*" is every type not listed.
DEFAULT_ZONES: dict[str, str] = {"trade": "UTC", "quote": "UTC", "*": "America/New_York"}

_offset_cache: dict[tuple[str, int], float] = {}
#: entries kept at most (an hour of a zone each; a backtest of years touches a few per day)
_OFFSET_CACHE_MAX = 4096


def zone_for(event_type: str, zones: dict[str, str] | None = None) -> str:
    zones = zones or DEFAULT_ZONES
    return zones.get(event_type, zones.get("*", "UTC"))


def _local_offset(zone: str, local_hour: int) -> float:
    """UTC offset in seconds of ``zone`` at the naive local hour ``local_hour`` (hours since 1970)."""
    key = (zone, local_hour)
    off = _offset_cache.get(key)
    if off is None:
        off = _utc_offset(zone, local_hour)
        if len(_offset_cache) >= _OFFSET_CACHE_MAX:
            _offset_cache.clear()             # bounded: memory stays flat over any number of days
        _offset_cache[key] = off
    return off


def _utc_offset(zone: str, local_hour: int) -> float:
    naive = datetime(1970, 1, 1) + timedelta(hours=local_hour)
    delta = naive.replace(tzinfo=ZoneInfo(zone)).utcoffset()
    return delta.total_seconds() if delta is not None else 0.0


def hour_offsets(zone: str, first_hour: int, last_hour: int) -> list[float]:
    """The UTC offsets of ``zone`` at the naive local hours ``first_hour`` .. ``last_hour``
    (not cached: a reader's table for one day)."""
    return [_utc_offset(zone, h) for h in range(first_hour, last_hour + 1)]


def sc_to_epoch(t: float, zone: str) -> float:
    """SCDateTime ``t`` written in ``zone`` -> UTC epoch seconds."""
    local = (t - _UNIX_DAYS) * SECONDS_PER_DAY
    if zone == "UTC":
        return local
    return local - _local_offset(zone, int(local // 3600))


def epoch_to_sc(epoch: float, zone: str) -> float:
    """UTC epoch seconds -> SCDateTime in ``zone``."""
    if zone != "UTC":
        dt = datetime.fromtimestamp(epoch, tz=timezone.utc).astimezone(ZoneInfo(zone))
        epoch = epoch + dt.utcoffset().total_seconds()
    return epoch / SECONDS_PER_DAY + _UNIX_DAYS


def zone_error(event_type: str, zone: str) -> str | None:
    """Why ``event_type`` (or ``*``) cannot be read in ``zone``; None when it can."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from mia.market.events import REQUIRED

    if event_type != "*" and event_type not in REQUIRED:
        return f"unknown event type {event_type!r} (one of {', '.join(sorted(REQUIRED))}, or *)"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {zone!r} (an IANA name such as UTC, America/New_York, America/Chicago)"
    return None
