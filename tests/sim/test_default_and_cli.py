"""The cached default session, the `mia simulate` command, and the front-contract calendar."""
from __future__ import annotations

import argparse
import datetime as dt

import pytest

from mia.cli import sim_cmds
from mia.market.sim.clock import front_contract
from mia.market.sim import SimConfig, SimulateError, default_session_dir


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="mia")
    sim_cmds.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_default_session_is_generated_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIA_CACHE_DIR", str(tmp_path / "cache"))
    cfg = SimConfig(day=dt.date(2025, 11, 20), seed=1, minutes=3, unified=True)
    first = default_session_dir(cfg)
    assert first.is_dir() and first.parent.parent == tmp_path / "cache"
    names = sorted(p.name for p in first.iterdir())
    assert "mia_unified_20251120.jsonl" in names and "chart_3_trade_20251120.jsonl" in names
    stamp = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    assert default_session_dir(cfg) == first
    assert {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == stamp
    assert [p.name for p in first.parent.iterdir()] == [first.name]     # no temp folder left


def test_cli_writes_the_day_folder(tmp_path, capsys):
    out = tmp_path / "day"
    assert run_cli(["simulate", "--date", "2025-11-20", "--out", str(out), "--seed", "4",
                    "--minutes", "2", "--unified", "--quiet"]) == 0
    assert (out / "mia_unified_20251120.jsonl").is_file()
    assert (out / "chart_10_menthorq_level_20251120.jsonl").is_file()
    assert "events/s" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--date", "2025-02-30"], "YYYY-MM-DD"),
    (["--date", "2025-11-20", "--minutes", "0"], "--minutes"),
    (["--date", "2025-11-20", "--minutes", "391"], "--minutes"),
    (["--date", "2025-11-20", "--scale", "0"], "--scale"),
    (["--date", "2025-11-20", "--seed", "-1"], "--seed"),
])
def test_cli_mistakes_are_readable_errors(tmp_path, argv, words):
    with pytest.raises(SimulateError, match=words):
        run_cli(["simulate", "--out", str(tmp_path / "x")] + argv)


def test_cli_unwritable_folder_is_a_readable_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SimulateError, match="cannot"):
        run_cli(["simulate", "--date", "2025-11-20", "--out", str(blocker / "sub"), "--minutes", "1"])


@pytest.mark.parametrize("day, sym", [
    ("2025-11-20", "ESZ25_FUT_CME"), ("2025-12-10", "ESZ25_FUT_CME"), ("2025-12-11", "ESH26_FUT_CME"),
    ("2025-12-31", "ESH26_FUT_CME"), ("2025-01-02", "ESH25_FUT_CME"), ("2025-03-13", "ESM25_FUT_CME"),
    ("2024-09-05", "ESU24_FUT_CME"),
])
def test_front_contract_rolls_eight_days_before_expiry(day, sym):
    assert front_contract(dt.date.fromisoformat(day)) == sym


def test_summer_session_uses_daylight_time(tmp_path):
    from simdata import Session
    from mia.market.sim import simulate
    cfg = SimConfig(day=dt.date(2025, 7, 15), seed=2, minutes=1)
    simulate(cfg, tmp_path)
    s = Session(tmp_path, cfg)
    assert s.ny == -4 * 3600
    first_trade = s.of(3, "trade")[0]
    assert f"{first_trade['t']:.6f}".startswith("45853.5625")          # 13:30 UTC
    assert s.of(3, "basedata")[0]["t"] == pytest.approx(45853 + 9.5 / 24, abs=1e-6)
    assert s.of(3, "trade")[0]["sym"] == "ESU25_FUT_CME"
