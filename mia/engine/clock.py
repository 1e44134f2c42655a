"""Trading-day arithmetic: the day rolls at 18:00 New York; local times for traces."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
ROLL_HOUR = 18


def local(t: float, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc).astimezone(zone)


def trading_day(t: float) -> date:
    """The trading day of UTC epoch ``t``: from 18:00 New York to 18:00 the next day."""
    return (local(t) + timedelta(hours=24 - ROLL_HOUR)).date()


def minutes_of_day(t: float, zone: ZoneInfo = NEW_YORK) -> int:
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
    day = trading_day(t)
    start = datetime(day.year, day.month, day.day, ROLL_HOUR, tzinfo=NEW_YORK) - timedelta(days=1)
    end = datetime(day.year, day.month, day.day, ROLL_HOUR, tzinfo=NEW_YORK)
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
