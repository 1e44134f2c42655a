"""More market checks: every type parses, unified-only days, depth stamping, tail clock,
progress by bytes."""
from __future__ import annotations

import json

import pytest

from mia.market.events import REQUIRED
from mia.market.replay import replay
from mia.market.sierra import BadLine, BadLines, LineParser, parse_line
from mia.market.tail import Tail
from sierra_lines import T0, bar, sc, trade

NY_T = sc(T0, "America/New_York")
UTC_T = sc(T0, "UTC")

# one hand-written line per type: (line, field to check, its value)
LINES = {
    "basedata": ({"i": 1, "o": 5000.0, "h": 5001.0, "l": 4999.0, "c": 5000.5, "v": 9, "bidvol": 4, "askvol": 5}, "c", 5000.5),
    "trade": ({"side": "SELL", "px": 5000.25, "vol": 3, "seq": 7, "tt": 1}, "side", "SELL"),
    "quote": ({"kind": "BIDASK", "bid": 5000.0, "ask": 5000.25, "bq": 10, "aq": 12, "seq": 8}, "ask", 5000.25),
    "depth": ({"side": "BID", "lvl": 3, "price": 4999.5, "size": 40}, "lvl", 3),
    "vwap": ({"i": 1, "src": "study", "v": 5000.1, "up1": 5001, "dn1": 4999, "up2": 5002, "dn2": 4998,
              "up3": 5003, "dn3": 4997}, "v", 5000.1),
    "vva": ({"i": 1, "vah": 5005, "val": 4995, "vpoc": 5000, "pvah": 5004, "pval": 4990, "ppoc": 4998,
             "id_curr": 9, "id_prev": 8}, "vpoc", 5000),
    "pvwap": ({"i": 1, "prev_start": 1, "prev_end": 13, "pvwap": 4990.5, "up1": 4992, "dn1": 4989, "up2": 4994,
               "dn2": 4987}, "pvwap", 4990.5),
    "nbcv": ({"i": 1, "ask_volume": 10, "bid_volume": 7, "delta": 3, "trades": 5, "cumulative_delta": 3,
              "total_volume": 17, "delta_ratio": 0.1765}, "delta", 3),
    "cumulative_delta": ({"i": 1, "close": -92, "study": 6, "sg": 4}, "close", -92),
    "atr": ({"i": 1, "atr": 2.5, "study": 7, "sg": 1}, "atr", 2.5),
    "vix": ({"i": 1, "last": 12.74}, "last", 12.74),
    "correlation": ({"i": 1, "cc": -0.42}, "cc", -0.42),
    "trade_summary": ({"buy_trades": 3, "sell_trades": 2, "buy_vol": 9, "sell_vol": 4}, "sell_vol", 4),
    "menthorq_level": ({"level_type": "hvl", "price": 5010.0, "subgraph": 3, "study_id": 1, "i": 1}, "level_type", "hvl"),
}


def test_every_type_is_covered_and_parses():
    assert set(LINES) == set(REQUIRED)
    for typ, (fields, key, value) in LINES.items():
        utc = typ in ("trade", "quote")
        raw = json.dumps({"t": UTC_T if utc else NY_T, "sym": "ES", "type": typ, **fields, "chart": 8})
        ev = parse_line(raw.encode())
        assert (ev.type, ev.chart, ev.sym, ev.f[key]) == (typ, 8, "ES", value)
        assert abs(ev.t - T0) < 0.1, typ                    # both zones land on the same instant


def test_vix_on_chart_3_and_chart_4_lines_without_type():
    assert parse_line(json.dumps({"t": NY_T, "type": "vix", "i": 1, "vix": 13.1})).f["vix"] == 13.1
    with pytest.raises(BadLine, match="bad_price"):
        parse_line(json.dumps({"t": NY_T, "type": "vix", "i": 1}))
    ev = parse_line(json.dumps({"t": NY_T, "i": 261, "atr": 8.7, "study": 7, "sg": 1, "chart": 4}), "atr", 4)
    assert (ev.type, ev.chart, ev.f["atr"]) == ("atr", 4, 8.7)
    # a line without chart gets the file's
    assert parse_line(json.dumps({"t": NY_T, "i": 2, "cc": 0.5}), "correlation", 3).chart == 3


@pytest.mark.parametrize("fields,reason", [
    ({"type": "depth", "side": "BID", "lvl": 1, "size": 3}, "missing_field"),
    ({"type": "depth", "lvl": 1, "price": 5000, "size": 3}, "missing_field"),
    ({"type": "quote", "bid": 5000, "ask": 0}, "bad_price"),
    ({"type": "basedata", "i": 1, "o": 1, "h": 1, "l": 1, "c": 1, "v": True}, "non_numeric_field"),
    ({"type": "trade", "px": 1e400, "vol": 1}, "invalid_json"),      # orjson refuses overflow, NaN, Infinity
    ({"type": "menthorq_level", "level_type": "hvl", "price": -5.0}, "bad_price"),
    ({"type": "trade", "px": 5000, "vol": 1, "t": "45981.5"}, "bad_time"),
])
def test_more_bad_lines(fields, reason):
    raw = json.dumps({"t": NY_T, **fields}).replace("Infinity", "1e400")
    with pytest.raises(BadLine) as info:
        parse_line(raw)
    assert info.value.reason == reason


def test_dst_is_honoured_per_hour():
    from datetime import datetime
    from zoneinfo import ZoneInfo
    p = LineParser("basedata", 3)
    for month in (3, 11):                                  # around both changes of 2025
        for day in range(1, 12):
            t = datetime(2025, month, day, 10, 0, tzinfo=ZoneInfo("America/New_York")).timestamp()
            line = json.dumps({"t": sc(t, "America/New_York"), "i": 1, "o": 1, "h": 1, "l": 1, "c": 1, "v": 1})
            assert abs(p.batch([line.encode()], print)[0].t - t) < 0.1


def test_unified_only_day_keeps_bar_stamped_lines_and_stamps_them_forward(tmp_path):
    depth = json.dumps({"t": NY_T, "sym": "ES", "type": "depth", "side": "ASK", "lvl": 1, "price": 5000.5,
                        "size": 7, "chart": 3}) + "\n"
    (tmp_path / "mia_unified_20251120.jsonl").write_text(
        bar(T0, 1, 5000.0) + trade(T0 + 30, 5000.25) + bar(T0, 1, 5000.25)     # rewrite 30 s after its t
        + depth + trade(T0 + 20, 4999.0)                                       # trade stream: 10 s back
        + trade(T0 + 59, 5000.5) + bar(T0 + 60, 2, 5000.5))
    bad = BadLines()
    got = [(e.type, e.t - T0) for e in replay([tmp_path], bad=bad)]
    assert [(ty, round(dt)) for ty, dt in got] == [
        ("basedata", 0), ("trade", 30), ("basedata", 30), ("depth", 30), ("trade", 59), ("basedata", 60)]
    assert bad.by_reason() == {"out_of_order": 1}


def test_per_chart_depth_never_moves_the_clock_back(tmp_path):
    depth = lambda lvl: json.dumps({"t": NY_T, "type": "depth", "side": "BID", "lvl": lvl, "price": 4999.75,
                                    "size": 5, "chart": 3}) + "\n"
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0 - 0.5, 5000.0) + trade(T0 + 10, 5000.25))
    (tmp_path / "chart_3_depth_20251120.jsonl").write_text(depth(1) + depth(2))
    got = [(e.type, round(e.t - T0, 1)) for e in replay([tmp_path])]
    assert got == [("trade", -0.5), ("depth", 0.0), ("depth", 0.0), ("trade", 10.0)]


def test_progress_by_bytes_gives_the_same_events(tmp_path):
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0) + trade(T0 + 1, 5000.25))
    assert list(replay([tmp_path], progress=True)) == list(replay([tmp_path]))


def test_empty_file_and_a_file_of_only_a_partial_line(tmp_path):
    (tmp_path / "chart_3_quote_20251120.jsonl").write_text("")
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0)[:30])
    bad = BadLines()
    assert list(replay([tmp_path], bad=bad)) == []
    assert bad.total == 1 and bad.by_reason() == {"partial_line": 1}
    tail = Tail(tmp_path)
    assert tail.poll() == [] and tail.bad.total == 0       # the tail waits for the rest


def test_tail_rotation_truncated_line_completed_and_depth_clock(tmp_path):
    f1 = tmp_path / "chart_3_trade_20251120.jsonl"
    line = trade(T0 + 5, 5000.5)
    f1.write_text(trade(T0, 5000.0) + line[:25])
    tail = Tail(tmp_path)
    assert [e.f["px"] for e in tail.poll()] == [5000.0]
    with open(f1, "a") as fh:
        fh.write(line[25:])
    (tmp_path / "chart_3_depth_20251120.jsonl").write_text(json.dumps(
        {"t": NY_T, "type": "depth", "side": "BID", "lvl": 1, "price": 5000.0, "size": 1}) + "\n")
    got = tail.poll()
    assert [(e.type, round(e.t - T0)) for e in got] == [("depth", 0), ("trade", 5)]
    (tmp_path / "chart_3_trade_20251121.jsonl").write_text(trade(T0 + 86400, 5001.0))
    assert [(e.type, e.f["px"]) for e in tail.poll()] == [("trade", 5001.0)]
