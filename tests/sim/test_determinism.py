"""Same seed and options -> byte-identical files; another seed -> other data."""
from __future__ import annotations

from simdata import write_session


def test_same_seed_writes_identical_bytes(tmp_path, session):
    again = write_session(tmp_path / "again", seed=7, minutes=20, unified=True)
    assert again.raw.keys() == session.raw.keys()
    for name, data in session.raw.items():
        assert again.raw[name] == data, name


def test_different_seed_gives_different_sessions(tmp_path, session):
    other = write_session(tmp_path / "other", seed=8, minutes=20, unified=True)
    differing = [n for n in session.raw if other.raw.get(n) != session.raw[n]]
    for kind in ("trade", "quote", "depth", "basedata", "vix", "menthorq_level"):
        assert any(f"_{kind}_" in n for n in differing), kind


def test_minutes_and_scale_change_the_amount_of_data(tmp_path, session):
    short = write_session(tmp_path / "short", seed=7, minutes=5)
    busy = write_session(tmp_path / "busy", seed=7, minutes=5, scale=3.0)
    n_short = len(short.of(3, "trade"))
    assert 0 < n_short < len(session.of(3, "trade"))
    assert len(busy.of(3, "trade")) > 2 * n_short
    assert len(short.final_bars()) == 5
