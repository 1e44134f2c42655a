"""Sierra Chart lines -> events: parsing, zones, merge order, bad lines counted exactly, inspect."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from mia.cli import main
from mia.market.days import DataPathError
from mia.market.replay import inspect, replay
from mia.market.sierra import BadLine, BadLines, parse_line

from sierra_lines import T0, bar, trade


def test_zones_line_up_a_utc_trade_and_a_new_york_bar():
    tr = parse_line(trade(T0, 5000.25).encode())
    br = parse_line(bar(T0, 7, 5000.25).encode())
    assert abs(tr.t - T0) < 0.1 and abs(br.t - T0) < 0.1
    assert tr.type == "trade" and tr.f["px"] == 5000.25 and tr.chart == 3
    assert br.f["bidvol"] == 4


def test_chart_4_type_comes_from_the_file_name():
    raw = '{"t": 45981.5, "sym": "ES", "i": 3, "o": 1, "h": 2, "l": 1, "c": 2, "v": 5, "chart": 4}'
    ev = parse_line(raw, file_type="basedata", chart=4)
    assert ev.type == "basedata" and ev.chart == 4


@pytest.mark.parametrize("raw,reason", [
    ("not json", "invalid_json"),
    ("[1, 2]", "invalid_json"),
    ('{"t": 45981.5, "type": "weather"}', "unknown_type"),
    ('{"t": 45981.5, "type": "trade", "side": "BUY", "vol": 1}', "missing_field"),
    ('{"t": 45981.5, "type": "trade", "px": 5000, "vol": 1}', "missing_field"),
    ('{"t": 45981.5, "type": "trade", "side": "BUY", "px": "5000", "vol": 1}', "non_numeric_field"),
    ('{"t": 45981.5, "type": "trade", "side": "BUY", "px": NaN, "vol": 1}', "nan_value"),
    ('{"t": 45981.5, "type": "trade", "side": "BUY", "px": Infinity, "vol": 1}', "nan_value"),
    ('{"t": 45981.5, "type": "trade", "side": "BUY", "px": -1, "vol": 1}', "bad_price"),
    ('{"t": 45981.5, "type": "trade", "side": "SIDEWAYS", "px": 5000, "vol": 1}', "bad_side"),
    ('{"t": 45981.5, "type": "trade", "side": "SELL", "px": 5000, "vol": 0}', "bad_size"),
    ('{"t": 45981.5, "type": "trade", "side": "SELL", "px": 5000, "vol": -1}', "bad_size"),
    ('{"t": 45981.5, "type": "depth", "side": "MID", "lvl": 1, "price": 5000, "size": 3}', "bad_side"),
    ('{"t": 45981.5, "type": "depth", "side": "BID", "lvl": 1, "price": 5000, "size": -3}', "bad_size"),
    ('{"type": "trade", "side": "BUY", "px": 5000, "vol": 1}', "bad_time"),
    ('{"t": 1e308, "type": "trade", "side": "BUY", "px": 5000, "vol": 1}', "bad_time"),
    ('{"t": 99999999.0, "type": "trade", "side": "BUY", "px": 5000, "vol": 1}', "bad_time"),
    ('{"t": 100.0, "type": "basedata", "i": 1, "o": 1, "h": 1, "l": 1, "c": 1, "v": 1}', "bad_time"),
])
def test_bad_lines_have_reasons(raw, reason):
    with pytest.raises(BadLine) as info:
        parse_line(raw)
    assert info.value.reason == reason


def test_merge_order_and_exact_bad_counts(tmp_path):
    day = tmp_path / "20251120"
    day.mkdir()
    (day / "chart_3_trade_20251120.jsonl").write_text(
        trade(T0 + 1, 5000.0) + "garbage\n" + trade(T0 + 3, 5000.25) + trade(T0 + 2.5, 5000.5)
        + trade(T0 - 60, 4999.0) + '{"t": 45981.6, "type": "trade", "vol": 2}\n' + trade(T0 + 5, 5001.0)
        + '{"t": 45981.6, "type": "tra')                           # a half-written last line
    (day / "chart_3_basedata_20251120.jsonl").write_text(bar(T0, 1, 5000.0) + bar(T0 + 2, 1, 5000.5)
                                                         + bar(T0 + 4, 2, 5000.75))
    (day / "chart_3_weather_20251120.jsonl").write_text('{"t": 45981.6, "rain": 1}\n')
    bad = BadLines()
    events = list(replay([tmp_path], bad=bad))
    times = [e.t for e in events]
    assert times == sorted(times)
    assert [(e.type, e.f.get("px", e.f.get("c"))) for e in events] == [
        ("basedata", 5000.0), ("trade", 5000.0), ("basedata", 5000.5), ("trade", 5000.25),
        ("trade", 5000.5), ("basedata", 5000.75), ("trade", 5001.0)]
    # 0.5 s back (2.5 after 3.0) is within the 2 s tolerance and clamped; 61 s back is out of order
    assert bad.by_reason() == {"invalid_json": 1, "missing_field": 1, "out_of_order": 1, "partial_line": 1,
                               "unknown_type": 1}


def test_a_unified_file_gives_the_streams_the_per_chart_files_lack(tmp_path):
    """Issue 10: a unified file was ignored whole as soon as one per-chart file sat beside it."""
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0))
    (tmp_path / "mia_unified_20251120.jsonl").write_text(trade(T0, 5000.0) + bar(T0, 1, 5000.0))
    bad = BadLines()
    got = list(replay([tmp_path], bad=bad))
    assert [e.type for e in got] == ["trade", "basedata"]           # the trade once, the bar from the unified file
    assert bad.total == 0
    only = tmp_path / "u"
    only.mkdir()
    (only / "mia_unified_20251121.jsonl").write_text(trade(T0 + 86400, 5000.0) + bar(T0 + 86400, 1, 5000.0))
    assert sorted(e.type for e in replay([only])) == ["basedata", "trade"]


def test_days_in_order_and_date_filter(tmp_path):
    from datetime import date

    for k, day in enumerate(("20251121", "20251120")):
        d = tmp_path / day
        d.mkdir()
        t = T0 + (1 - k) * 86400
        (d / f"chart_3_trade_{day}.jsonl").write_text(trade(t, 5000.0 + k))
    assert [e.f["px"] for e in replay([tmp_path])] == [5001.0, 5000.0]
    assert [e.f["px"] for e in replay([tmp_path], date_from=date(2025, 11, 21))] == [5000.0]


def test_missing_and_empty_paths(tmp_path):
    with pytest.raises(DataPathError, match="no such file"):
        list(replay([tmp_path / "nope"]))
    with pytest.raises(DataPathError, match="no Sierra Chart JSONL files"):
        list(replay([tmp_path]))
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text("")
    assert list(replay([tmp_path])) == []


def test_inspect_and_cli(tmp_path, capsys):
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0) + trade(T0 + 60, 5000.25) + "x\n")
    (tmp_path / "chart_3_basedata_20251120.jsonl").write_text(bar(T0, 1, 5000.0))
    info = inspect([tmp_path])
    assert info["types"] == {"basedata": 1, "trade": 2}
    assert info["bad"] == {"invalid_json": 1}
    assert info["first"] == datetime.fromtimestamp(round(T0), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert main(["data", "inspect", str(tmp_path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"types", "bad", "first", "last", "notes", "partial_bytes"}
    assert printed["types"]["trade"] == 2
    assert printed["notes"] == [] and printed["partial_bytes"] == {}
    assert main(["data", "inspect", str(tmp_path / "missing")]) == 1
    assert "no such file" in capsys.readouterr().err
