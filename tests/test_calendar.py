"""The trading calendar: days roll at config/instruments.yaml's trading_day_roll (18:00 New York),
DST changes included; the cached clock agrees; the sessions entry is read and checked."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

import mia.calendar as calendar
from mia.calendar import DayClock, day_bounds, trading_day
from mia.errors import MiaError
from mia.features import FeatureConfig
from mia.instruments import Sessions, load_sessions
from mia.resources import shipped

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


def test_the_bundled_sessions():
    s = load_sessions(shipped("config/instruments.yaml"))
    assert s == Sessions(18 * 60, NY, 9 * 60 + 30, 16 * 60, NY)
    cfg = FeatureConfig()
    assert (cfg.open_minute, cfg.close_minute, cfg.zone) == (570, 960, NY)


def write(tmp_path, sessions: str):
    p = tmp_path / "instruments.yaml"
    p.write_text("ES:\n  tick_size: 0.25\n  tick_value: 12.5\n" + sessions)
    return p


def test_other_sessions_move_the_roll_and_the_cash_hours(tmp_path, monkeypatch):
    chi = ZoneInfo("America/Chicago")
    s = load_sessions(write(tmp_path, "sessions:\n  trading_day_roll: 16:00 America/Chicago\n"
                                      "  rth: 08:30-15:15 America/Chicago\n"))
    assert s == Sessions(16 * 60, chi, 8 * 60 + 30, 15 * 60 + 15, chi)
    monkeypatch.setattr(calendar, "sessions", lambda: s)
    before = datetime(2025, 11, 20, 15, 59, tzinfo=chi).timestamp()
    after = datetime(2025, 11, 20, 16, 0, tzinfo=chi).timestamp()
    assert trading_day(before) == date(2025, 11, 20) and trading_day(after) == date(2025, 11, 21)
    assert day_bounds(after)[1] == after
    assert calendar.iso(after) == "2025-11-20T16:00:00-06:00"            # traces in the calendar's zone
    cfg = FeatureConfig()
    assert (cfg.open_minute, cfg.close_minute, cfg.zone) == (510, 915, chi)


def test_a_morning_roll_names_the_day_it_starts(tmp_path, monkeypatch):
    s = load_sessions(write(tmp_path, "sessions:\n  trading_day_roll: 02:00 UTC\n  rth: 09:30-16:00 UTC\n"))
    monkeypatch.setattr(calendar, "sessions", lambda: s)
    utc = ZoneInfo("UTC")
    t = datetime(2025, 11, 20, 1, 59, tzinfo=utc).timestamp()
    assert trading_day(t) == date(2025, 11, 19)
    d, start, end = day_bounds(t + 60)
    assert d == date(2025, 11, 20) and start == t + 60 and end == start + 86400
    clock = DayClock()
    for k in range(0, 3 * 24 * 60, 13):
        assert clock.day(t + 60 * k) == trading_day(t + 60 * k)


@pytest.mark.parametrize("text,message", [
    ("", r"instruments.yaml: error: no 'sessions:' mapping"),
    ("sessions: 18:00\n", r"instruments.yaml:4:11: error: no 'sessions:' mapping"),
    ("sessions:\n  rth: 09:30-16:00 America/New_York\n",
     r"instruments.yaml:5:3: error: sessions.trading_day_roll must look like '18:00 America/New_York', got nothing"),
    ("sessions:\n  trading_day_roll: 18:00\n  rth: 09:30-16:00 America/New_York\n",
     r"instruments.yaml:5:21: error: sessions.trading_day_roll must look like '18:00 America/New_York', got 1080"),
    ("sessions:\n  trading_day_roll: 18:00 America/Gotham\n  rth: 09:30-16:00 America/New_York\n",
     r"instruments.yaml:5:21: error: sessions.trading_day_roll: unknown time zone 'America/Gotham'"),
    ("sessions:\n  trading_day_roll: 18:00 America/New_York\n  rth: 16:00-09:30 America/New_York\n",
     r"instruments.yaml:6:8: error: sessions.rth must open before it closes"),
    ("sessions:\n  trading_day_roll: 18:00 America/New_York\n  rth: 9-16 America/New_York\n",
     r"instruments.yaml:6:8: error: sessions.rth must look like '09:30-16:00 America/New_York', got '9-16 "),
])
def test_a_missing_or_broken_sessions_entry_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(MiaError, match=message):
        load_sessions(write(tmp_path, text))
