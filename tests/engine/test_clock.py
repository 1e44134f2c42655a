"""Trading days roll at 18:00 New York, DST changes included; the cached clock agrees."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from mia.engine.clock import DayClock, day_bounds, trading_day

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize("when,day", [
    (datetime(2025, 11, 20, 17, 59, 59, tzinfo=NY), date(2025, 11, 20)),
    (datetime(2025, 11, 20, 18, 0, tzinfo=NY), date(2025, 11, 21)),
    (datetime(2025, 3, 9, 12, 0, tzinfo=NY), date(2025, 3, 9)),       # the spring DST change day
    (datetime(2025, 11, 2, 18, 30, tzinfo=NY), date(2025, 11, 3)),    # the autumn DST change day
])
def test_trading_day_and_bounds(when, day):
    t = when.timestamp()
    d, start, end = day_bounds(t)
    assert d == day == trading_day(t)
    assert start <= t < end
    assert trading_day(start) == d and trading_day(end - 1) == d and trading_day(end) != d


def test_day_clock_matches_trading_day_across_a_week():
    clock = DayClock()
    t0 = datetime(2025, 11, 1, 0, 0, tzinfo=NY).timestamp()
    for k in range(0, 7 * 24 * 60, 7):
        t = t0 + k * 60
        assert clock.day(t) == trading_day(t)
