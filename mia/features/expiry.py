"""The SPX monthly options expiry calendar and the gamma-cycle phase (elite technique 4).

The monthly SPX options expire on the third Friday of the month at 16:00 New York; when that
Friday is an exchange holiday, on the Thursday before. Only two NYSE holidays can fall on a third
Friday (the 15th to the 21st): Good Friday (computed from Easter, every year) and Juneteenth,
June 19 (from 2022; on a Saturday the Friday before is the holiday). ``HOLIDAY_RULES_FROM`` and
``holiday`` say exactly which: the rule is computed for any year, so the table covers every year
from 2022 on, and Good Friday for the years before (Juneteenth was no exchange holiday then).
One-off closures (a national day of mourning) are not known here; none fell on a third Friday
from 2000 to 2025.

``cycle(t)``: (whole days to the next expiry, whole days since the last one), calendar days
rounded down as the origin code counts them (expiry day before 16:00: 0 days to expiry; the
Monday after an expiry: 2 days since). ``phase``: 4 post-expiry (at most 2 days since), else 3
expiry week (at most 2 days to), 2 gamma peak (3-5), 1 moderate (6-10), 0 normal (more than 10);
the day counts are ``FeatureConfig`` settings.
"""
from __future__ import annotations

import functools
import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
#: Juneteenth became an exchange holiday in this year
JUNETEENTH_FROM = 2022
#: the first year the holiday rules hold in full (Good Friday alone before it)
HOLIDAY_RULES_FROM = JUNETEENTH_FROM
DAY = 86400.0

NORMAL, MODERATE, PEAK, EXPIRY_WEEK, POST_EXPIRY = 0, 1, 2, 3, 4


def easter(year: int) -> date:
    """Easter Sunday of the Gregorian ``year`` (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def holiday(d: date) -> bool:
    """Whether the Friday ``d`` is an exchange holiday that moves an expiry: Good Friday, or
    Juneteenth (observed: June 19, or June 18 when the 19th is a Saturday) from 2022."""
    if d == easter(d.year) - timedelta(days=2):
        return True
    if d.year >= JUNETEENTH_FROM and d.month == 6:
        june19 = date(d.year, 6, 19)
        observed = june19 - timedelta(days=1) if june19.weekday() == 5 else june19
        return d == observed
    return False


@functools.lru_cache(maxsize=512)
def expiry_day(year: int, month: int) -> date:
    """The day the month's SPX options expire: the third Friday, or the Thursday before it when
    that Friday is a holiday."""
    first = date(year, month, 1)
    friday = first + timedelta(days=(4 - first.weekday()) % 7 + 14)
    return friday - timedelta(days=1) if holiday(friday) else friday


@functools.lru_cache(maxsize=512)
def expiry_epoch(year: int, month: int) -> float:
    """The month's expiry instant (16:00 New York) in UTC epoch seconds."""
    d = expiry_day(year, month)
    return datetime(d.year, d.month, d.day, 16, tzinfo=NEW_YORK).timestamp()


def _shift(year: int, month: int, k: int) -> tuple[int, int]:
    n = year * 12 + (month - 1) + k
    return n // 12, n % 12 + 1


@functools.lru_cache(maxsize=64)
def _month_start(year: int, month: int) -> float:
    """Midnight New York on the month's first day, in UTC epoch seconds (never a DST gap)."""
    return datetime(year, month, 1, tzinfo=NEW_YORK).timestamp()


#: [start, end) of the New York month of the last ``cycle`` call, and its (year, month)
_month = [math.inf, -math.inf, 0, 0]


def cycle(t: float) -> tuple[float, float]:
    """(days to the next expiry, days since the last one) at UTC epoch ``t``, whole calendar
    days rounded down; an expiry at ``t`` exactly is the next one (0 days to it)."""
    if t != t:
        return math.nan, math.nan
    start, end, y, m = _month
    if not (start <= t < end):                 # another New York month than the last call's
        local = datetime.fromtimestamp(t, NEW_YORK)
        y, m = local.year, local.month
        _month[:] = _month_start(y, m), _month_start(*_shift(y, m, 1)), y, m
    this = expiry_epoch(y, m)
    if t <= this:
        nxt, last = this, expiry_epoch(*_shift(y, m, -1))
    else:
        nxt, last = expiry_epoch(*_shift(y, m, 1)), this
    return float(math.floor((nxt - t) / DAY)), float(math.floor((t - last) / DAY))


def phase(days_to: float, days_since: float, cfg) -> float:
    """The gamma-cycle phase code (module docstring) from the day counts and ``cfg``'s settings."""
    if days_to != days_to:
        return math.nan
    if days_since <= cfg.gamma_post_expiry_days:
        return float(POST_EXPIRY)
    if days_to <= cfg.gamma_expiry_week_days:
        return float(EXPIRY_WEEK)
    if days_to <= cfg.gamma_peak_days:
        return float(PEAK)
    if days_to <= cfg.gamma_moderate_days:
        return float(MODERATE)
    return float(NORMAL)
