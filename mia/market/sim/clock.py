"""Session clock and contract for a simulated day: RTH bounds, front month, SCDateTime text.

Event times inside the simulator are integers, exact and platform-independent:
``us`` = microseconds since the Unix epoch (UTC). Sierra writes ``t`` with 6 decimals of a day
(86.4 ms), so every event time is first snapped *up* to that grid (``snap_us``): what the
simulator reasons about (which bar a trade falls in) is exactly what the files say.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from mia.market.sctime import zone_for

NEW_YORK = ZoneInfo("America/New_York")
#: one SCDateTime unit at 6 decimals (1e-6 day) in microseconds
SC_GRID_US = 86_400
_UNIX_DAYS = 25569  # SCDateTime of 1970-01-01
RTH_OPEN = dt.time(9, 30)
RTH_MINUTES = 390

_MONTH_CODES = {3: "H", 6: "M", 9: "U", 12: "Z"}


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)


def front_contract(day: dt.date, root: str = "ES") -> str:
    """Sierra symbol of the front quarterly contract on ``day``, e.g. ``ESZ25_FUT_CME``.

    The roll happens 8 days before expiry (the third Friday of the contract month), as the
    volume does.
    """
    year, month = day.year, day.month
    while True:
        quarter = ((month - 1) // 3 + 1) * 3
        if quarter > 12:
            year, quarter = year + 1, 3
        if day < third_friday(year, quarter) - dt.timedelta(days=8):
            return f"{root}{_MONTH_CODES[quarter]}{year % 100:02d}_FUT_CME"
        month = quarter + 1
        if month > 12:
            year, month = year + 1, 1


@dataclass(frozen=True)
class SessionClock:
    """Where the simulated session sits in time, and how its times are written."""

    day: dt.date
    minutes: int
    open_us: int          # 09:30 New York of ``day``, UTC epoch microseconds
    ny_offset_us: int     # New York UTC offset during the session (DST changes happen at 02:00)

    @classmethod
    def for_day(cls, day: dt.date, minutes: int) -> "SessionClock":
        local_open = dt.datetime.combine(day, RTH_OPEN, tzinfo=NEW_YORK)
        open_us = int(local_open.timestamp()) * 1_000_000
        offset = local_open.utcoffset()
        assert offset is not None
        return cls(day, minutes, open_us, int(offset.total_seconds()) * 1_000_000)

    @property
    def end_us(self) -> int:
        return self.open_us + self.minutes * 60_000_000

    def minute_start_us(self, minute: np.ndarray) -> np.ndarray:
        return self.open_us + np.asarray(minute, dtype=np.int64) * 60_000_000

    def minute_of(self, us: np.ndarray) -> np.ndarray:
        """Session minute (0 = 09:30) of UTC epoch microseconds."""
        return (np.asarray(us, dtype=np.int64) - self.open_us) // 60_000_000

    def sc_units(self, us: np.ndarray, event_type: str) -> np.ndarray:
        """Event times -> SCDateTime in millionths of a day (integers), in the type's zone."""
        us = np.asarray(us, dtype=np.int64)
        if zone_for(event_type) != "UTC":
            if zone_for(event_type) != "America/New_York":  # pragma: no cover - config guard
                raise ValueError(f"simulator writes UTC or New York times, not {zone_for(event_type)}")
            us = us + self.ny_offset_us
        # rounded up, like the event times: a bar starting at 09:31:00 never reads as 09:30:59.97
        return -((-us) // SC_GRID_US) + _UNIX_DAYS * 1_000_000


def snap_us(us: np.ndarray) -> np.ndarray:
    """Snap UTC epoch microseconds up to the 6-decimal SCDateTime grid (exactly representable)."""
    us = np.asarray(us, dtype=np.int64)
    return -((-us) // SC_GRID_US) * SC_GRID_US


def sc_text(units: np.ndarray) -> list[str]:
    """SCDateTime millionths of a day -> the ``%.6f`` text Sierra writes, exactly."""
    units = np.asarray(units, dtype=np.int64)
    days = (units // 1_000_000).tolist()
    frac = (units % 1_000_000).tolist()
    return ["%d.%06d" % df for df in zip(days, frac)]
