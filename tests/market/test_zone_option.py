"""`--zone TYPE=ZONE`: the zone a source writes its times in is the user's setting, checked."""
from __future__ import annotations

import json

import pytest

from mia.cli import main
from sierra_lines import T0, trade


@pytest.fixture
def folder(tmp_path):
    day = tmp_path / "20251120"
    day.mkdir()
    (day / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0) + trade(T0 + 60, 5000.25))
    return day


def inspect(capsys, folder, *extra):
    assert main(["data", "inspect", str(folder), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_zone_moves_that_type_only(folder, capsys):
    utc = inspect(capsys, folder)
    assert utc["first"] == "2025-11-20T15:00:00Z"                   # T0 is 10:00 New York
    ny = inspect(capsys, folder, "--zone", "trade=America/New_York")
    assert ny["first"] == "2025-11-20T20:00:00Z"                    # the same digits read as New York time
    assert inspect(capsys, folder, "--zone", "quote=America/Chicago") == utc
    assert inspect(capsys, folder, "--zone", "*=America/Chicago")["first"] == utc["first"]   # trade stays UTC


@pytest.mark.parametrize("text,message", [
    ("trade", "expected TYPE=ZONE"),
    ("trade=Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("weather=UTC", "unknown event type 'weather'"),
])
def test_bad_zone_options_are_one_line_errors(folder, capsys, text, message):
    assert main(["data", "inspect", str(folder), "--zone", text]) == 1
    err = capsys.readouterr().err
    assert message in err and "error:" in err and "Traceback" not in err


def test_backtest_and_signals_take_the_option(folder, tmp_path, capsys):
    assert main(["backtest", "--data", str(folder), "--out", str(tmp_path / "r"), "--no-progress",
                 "--zone", "trade=Mars/Olympus"]) == 1
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    times = []
    for extra in ([], ["--zone", "trade=America/Chicago"]):
        out = tmp_path / f"s{len(extra)}.csv"
        assert main(["signals", "--data", str(folder), "--quiet", "--no-cache", "--csv", str(out), *extra]) == 0
        times.append({line.split(",")[0][11:13] for line in out.read_text().splitlines()[1:]})
    assert times[0] == {"10"} and times[1] == {"16"}                # 15:00 UTC vs 15:00 Chicago, in New York
