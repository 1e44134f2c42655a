"""The trading calendar: trading days, regular trading hours, local times for traces.

A trading day rolls at ``sessions.trading_day_roll`` of config/instruments.yaml (18:00 New York
for CME futures: an evening roll names the day by the date it ends on, a morning one by the date
it starts on); ``sessions.rth`` is the regular trading hours (09:30-16:00 New York). Both are read
on first use and cached (``mia.instruments.load_sessions``); traces show times in the trading
day's zone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mia.instruments import Sessions, load_sessions

#: the sessions, found on first use: finding the instrument table stats and resolves paths (and
#: asking for the current folder is a system call), too slow for every trace time
_sessions: Sessions | None = None


def sessions() -> Sessions:
    """The sessions of config/instruments.yaml (read once per process)."""
    global _sessions
    if _sessions is None:
        _sessions = load_sessions()
    return _sessions


def local(t: float, zone: ZoneInfo | None = None) -> datetime:
    """UTC epoch ``t`` as a local time of ``zone`` (default: the trading day's zone)."""
    return datetime.fromtimestamp(t, zone or sessions().roll_zone)


def _shift(s: Sessions) -> timedelta:
    """Added to a local time, it lands on the date that names its trading day."""
    return timedelta(minutes=1440 - s.roll_minute if s.roll_minute >= 720 else -s.roll_minute)


def trading_day(t: float) -> date:
    """The trading day of UTC epoch ``t``: from one roll to the next (18:00 to 18:00 New York)."""
    s = sessions()
    return (local(t, s.roll_zone) + _shift(s)).date()


def minutes_of_day(t: float, zone: ZoneInfo | None = None) -> int:
    d = local(t, zone)
    return d.hour * 60 + d.minute


def iso(t: float) -> str:
    return local(t).isoformat(timespec="seconds")


def in_hours(t: float, start_min: int, end_min: int, zone: str) -> bool:
    """Whether ``t`` falls in [start, end) local time of ``zone``; a window may wrap midnight."""
    m = minutes_of_day(t, ZoneInfo(zone))
    if start_min <= end_min:
        return start_min <= m < end_min
    return m >= start_min or m < end_min


def day_bounds(t: float) -> tuple[date, float, float]:
    """The trading day of ``t`` with its start and end as UTC epochs (for cheap "same day?" checks)."""
    s = sessions()
    day = trading_day(t)
    first = day - timedelta(days=1) if s.roll_minute >= 720 else day
    h, m = divmod(s.roll_minute, 60)
    last = first + timedelta(days=1)
    start = datetime(first.year, first.month, first.day, h, m, tzinfo=s.roll_zone)
    end = datetime(last.year, last.month, last.day, h, m, tzinfo=s.roll_zone)
    return day, start.timestamp(), end.timestamp()


class DayClock:
    """``day(t)``: the trading day of ``t``, recomputed only when ``t`` leaves the cached day."""

    def __init__(self) -> None:
        self._start = self._end = float("nan")
        self._day: date | None = None

    def day(self, t: float) -> date:
        if not (self._start <= t < self._end):
            self._day, self._start, self._end = day_bounds(t)
        return self._day
