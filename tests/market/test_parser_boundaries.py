"""The Sierra line parser at its edges, against oracles written here: SCDateTimes made by hand from a
naive local time (days since 1899-12-30), the UTC instant from ``zoneinfo`` directly; lines either
side of both 2025 DST changes in one file; two zones in one unified file; a VIX of 0; the chart a
line carries in a unified file."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from mia.market.replay import replay
from mia.market.sierra import BadLine, BadLines, LineParser, parse_line

EPOCH = dt.datetime(1899, 12, 30)


def sc_local(y, mo, d, h, mi, s=0) -> float:
    """The SCDateTime Sierra writes for this wall-clock time: days since 1899-12-30, 6 decimals."""
    return round((dt.datetime(y, mo, d, h, mi, s) - EPOCH).total_seconds() / 86400.0, 6)


def utc_of(zone: str, y, mo, d, h, mi, s=0) -> float:
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=ZoneInfo(zone)).timestamp()


def bar_line(t: float, **extra) -> bytes:
    return json.dumps({"t": t, "i": 1, "o": 5000.0, "h": 5000.0, "l": 5000.0, "c": 5000.0, "v": 1, **extra}).encode()


# a wall-clock hour either side of each change (the repeated 01:00 hour of November is ambiguous)
AROUND_DST = [(2025, 3, 9, 1, 30), (2025, 3, 9, 3, 30), (2025, 3, 9, 23, 59),
              (2025, 11, 2, 0, 30), (2025, 11, 2, 2, 30), (2025, 11, 2, 23, 0)]


@pytest.mark.parametrize("zone", ["America/New_York", "America/Chicago", "Europe/Paris"])
def test_lines_either_side_of_a_dst_change_in_one_file(zone):
    p = LineParser("basedata", 3, {"*": zone})
    lines = [bar_line(sc_local(*w)) for w in AROUND_DST]
    got = [e.t for e in p.batch(lines, print)]
    want = [utc_of(zone, *w) for w in AROUND_DST]
    assert got == pytest.approx(want, abs=0.05)
    # the line-at-a-time path and a fresh parser per line agree
    assert [p.one(x).t for x in lines] == pytest.approx(want, abs=0.05)
    assert [LineParser("basedata", 3, {"*": zone}).epoch(sc_local(*w), "basedata") for w in AROUND_DST] == \
        pytest.approx(want, abs=0.05)
    # 01:30 EST and 03:30 EDT are one hour apart in UTC, not two
    if zone == "America/New_York":
        assert got[1] - got[0] == pytest.approx(3600.0, abs=0.05)


def test_two_zones_in_one_unified_file_in_the_same_hour():
    zones = {"basedata": "America/New_York", "vix": "America/Chicago", "*": "UTC"}
    wall = (2025, 11, 20, 10, 15)
    lines = []
    for k in range(3):                     # alternating types, same wall-clock hour
        lines.append(json.dumps({"t": sc_local(*wall[:4], 15 + k), "type": "basedata", "i": k, "o": 1, "h": 1,
                                 "l": 1, "c": 1, "v": 1, "chart": 3}).encode())
        lines.append(json.dumps({"t": sc_local(*wall[:4], 15 + k), "type": "vix", "last": 17.0, "chart": 8}).encode())
    got = [(e.type, e.t) for e in LineParser(None, None, zones).batch(lines, print)]
    for k in range(3):
        assert got[2 * k] == ("basedata", pytest.approx(utc_of("America/New_York", *wall[:4], 15 + k), abs=0.05))
        assert got[2 * k + 1] == ("vix", pytest.approx(utc_of("America/Chicago", *wall[:4], 15 + k), abs=0.05))
    assert got[1][1] - got[0][1] == pytest.approx(3600.0, abs=0.05)      # Chicago is an hour behind


@pytest.mark.parametrize("key", ["last", "vix"])
@pytest.mark.parametrize("value,ok", [(0, False), (0.0, False), (-1.5, False), (0.01, True), (17.2, True)])
def test_a_vix_must_be_above_zero(key, value, ok):
    raw = json.dumps({"t": sc_local(2025, 11, 20, 10, 0), "type": "vix", key: value, "chart": 8})
    if ok:
        assert parse_line(raw).f[key] == value
        return
    with pytest.raises(BadLine) as info:
        parse_line(raw)
    assert info.value.reason == "bad_price"
    bad = []
    assert LineParser(None, None).batch([raw.encode()], bad.append) == [] and bad == ["bad_price"]


def test_a_vix_of_zero_in_a_folder_is_a_bad_line_not_a_value(tmp_path):
    t = sc_local(2025, 11, 20, 10, 0)
    (tmp_path / "chart_8_vix_20251120.jsonl").write_text(
        json.dumps({"t": t, "i": 1, "last": 0}) + "\n" + json.dumps({"t": t + 1e-4, "i": 1, "last": 18.5}) + "\n")
    bad = BadLines()
    assert [e.f["last"] for e in replay([tmp_path], bad=bad)] == [18.5]
    assert bad.by_reason() == {"bad_price": 1}


def test_a_unified_line_keeps_its_own_chart():
    p = LineParser(None, None)
    t = sc_local(2025, 11, 20, 10, 0)
    lines = [json.dumps({"t": t, "type": "vix", "last": 17.0, "chart": 8}).encode(),
             json.dumps({"t": t, "type": "atr", "atr": 2.0, "chart": 4}).encode(),
             json.dumps({"t": t, "type": "atr", "atr": 2.0}).encode()]                 # no chart written
    assert [e.chart for e in p.batch(lines, print)] == [8, 4, 0]
    assert [p.one(x).chart for x in lines] == [8, 4, 0]
    # in a per-chart file, a line without chart takes the file's; one with a chart keeps its own
    q = LineParser("atr", 4)
    assert [e.chart for e in q.batch(lines[1:], print)] == [4, 4]


def _events(folder):
    """Each event's type, chart, symbol and fields (its raw ``t`` included; ``chart`` and ``type``
    are written in a unified line only). The replayed time is left out: the two layouts stamp
    bar-stamped and depth lines forward differently."""
    return Counter((e.type, e.chart, e.sym, json.dumps({k: v for k, v in e.f.items() if k not in ("chart", "type")},
                                                       sort_keys=True))
                   for e in replay([folder]))


def test_a_unified_only_day_gives_the_per_chart_days_events(tmp_path):
    """The simulator writes the same session both ways: the unified file alone must give the same
    events, each on the same chart, as the per-chart files alone (whose names say the chart)."""
    from mia.market.sim import SimConfig, simulate

    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=5, minutes=3, unified=True), tmp_path / "both")
    unified, charts = tmp_path / "unified", tmp_path / "charts"
    unified.mkdir()
    charts.mkdir()
    for p in (tmp_path / "both").iterdir():
        (unified if p.name.startswith("mia_unified_") else charts).joinpath(p.name).write_bytes(p.read_bytes())
    per_chart = _events(charts)
    assert {c for (_, c, _, _) in per_chart} >= {3, 4, 8, 10}
    assert _events(unified) == per_chart


def _block_events(folder, bad):
    from mia.features.engine import HANDLED_TYPES
    from mia.market.columnar.blocks import blocks

    return [blk.event(i) for blk in blocks([folder], bad=bad, wanted_types=HANDLED_TYPES) for i in range(len(blk.t))]


def test_the_block_scanner_reads_times_and_charts_as_the_parser_does(tmp_path):
    """The numba scanner of the block path has its own checks: a time outside 1970-2100 is a bad
    line there too, a line's integer chart is its own and a float chart number the file's."""
    t = sc_local(2025, 11, 20, 15, 0)               # trades are written in UTC
    lines = [{"t": t, "px": 5000.25}, {"t": t + 1e-5, "px": 5000.5, "chart": 4},
             {"t": t + 2e-5, "px": 5000.75, "chart": 8.5}, {"t": 100.0, "px": 5001.0},
             {"t": 80000.0, "px": 5001.25}, {"t": t + 3e-5, "px": 5001.5, "chart": 3}]
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(
        "".join(json.dumps({"sym": "ESZ25_FUT_CME", "side": "BUY", "vol": 1, **d}) + "\n" for d in lines))
    bad_replay, bad_blocks = BadLines(), BadLines()
    want = [(e.t, e.chart, e.f["px"]) for e in replay([tmp_path], bad=bad_replay)]
    assert [(e.t, e.chart, e.f["px"]) for e in _block_events(tmp_path, bad_blocks)] == want
    assert [(c, px) for _, c, px in want] == [(3, 5000.25), (4, 5000.5), (3, 5000.75), (3, 5001.5)]
    assert bad_blocks.by_reason() == bad_replay.by_reason() == {"bad_time": 2}
