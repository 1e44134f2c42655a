"""The seed 002 layout (ISO ``ts``, ``open/high/low/close/volume``, ``menthorq_gamma_levels`` with a
``label``, VIX ``last`` and ``policy``, chart as a string): its lines, and a day folder in it that
backtests exactly as the same data in the common layout."""
from __future__ import annotations

import datetime as dt
from datetime import datetime, timezone

import orjson
import pytest

from mia.cli import main
from mia.market.columnar.blocks import blocks
from mia.market.replay import replay
from mia.market.sierra import BadLine, BadLines, parse_line

# the three example lines of seed 002 (its unified-stream architecture)
SEED_002 = [
    b'{"ts": "2025-01-07T10:30:00Z", "sym": "ESU25_FUT_CME", "chart": "3", "type": "basedata", "open": 5295.0, '
    b'"high": 5297.0, "low": 5293.0, "close": 5295.5, "volume": 1000}',
    b'{"ts": "2025-01-07T10:30:00Z", "sym": "VIX", "chart": "8", "type": "vix", "last": 15.2, "policy": "normal"}',
    b'{"ts": "2025-01-07T10:30:00Z", "sym": "ESU25_FUT_CME", "chart": "10", "type": "menthorq_gamma_levels", '
    b'"label": "Call Resistance", "price": 5300.0}',
]
T = datetime(2025, 1, 7, 10, 30, tzinfo=timezone.utc).timestamp()


def test_the_three_example_lines_of_seed_002():
    bar, vix, level = (parse_line(x) for x in SEED_002)
    assert (bar.t, bar.type, bar.chart) == (T, "basedata", 3)
    assert (bar.f["o"], bar.f["h"], bar.f["l"], bar.f["c"], bar.f["v"]) == (5295.0, 5297.0, 5293.0, 5295.5, 1000)
    assert bar.f["i"] == int(T // 60)                      # numbered by its minute
    assert (vix.t, vix.type, vix.chart, vix.f["last"], vix.f["policy"]) == (T, "vix", 8, 15.2, "normal")
    assert (level.t, level.type, level.chart) == (T, "menthorq_level", 10)
    assert (level.f["level_type"], level.f["price"]) == ("call_resistance", 5300.0)


@pytest.mark.parametrize("label, level_type", [
    ("Call Resistance", "call_resistance"), ("Put Support", "put_support"), ("HVL", "hvl"),
    ("1D Min", "1d_min"), ("1d_max", "1d_max"), ("Call Resistance 0DTE", "call_resistance_0dte"),
    ("0DTE Gamma Wall", "gamma_wall_0dte"), ("HVL 0DTE", "hvl_0dte"), ("put-support-0dte", "put_support_0dte"),
    ("Blind Spot 1", "blind_spot_0"), ("Blind Spot 3", "blind_spot_2"), ("BL 10", "blind_spot_9"),
    ("GEX 2", "gex_2"), ("gex10", "gex_10"), ("Swing 4", "swing_4"),
])
def test_labels_name_level_types(label, level_type):
    line = orjson.dumps({"ts": "2025-01-07T10:30:00Z", "type": "menthorq_gamma_levels", "label": label,
                         "price": 5300.0})
    assert parse_line(line).f["level_type"] == level_type


@pytest.mark.parametrize("fields, reason", [
    ({"ts": "yesterday", "type": "vix", "last": 15.0}, "bad_time"),
    ({"ts": 1736245800, "type": "vix", "last": 15.0}, "bad_time"),
    ({"ts": "2025-01-07T10:30:00Z", "type": "menthorq_gamma_levels", "label": "Blind Spot 0", "price": 1.0},
     "bad_field"),                                          # 1-based: 0 would be a shifted level
    ({"ts": "2025-01-07T10:30:00Z", "type": "menthorq_gamma_levels", "label": "GEX 11", "price": 1.0}, "bad_field"),
    ({"ts": "2025-01-07T10:30:00Z", "type": "menthorq_gamma_levels", "label": 3, "price": 1.0}, "bad_field"),
    ({"ts": "2025-01-07T10:30:00Z", "type": "menthorq_gamma_levels", "price": 1.0}, "missing_field"),
    ({"ts": "2025-01-07T10:30:00Z", "type": "basedata", "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0},
     "missing_field"),                                      # no volume
    ({"ts": "2025-01-07T10:30:00Z", "type": "basedata", "open": -1.0, "high": 1.0, "low": 1.0, "close": 1.0,
      "volume": 3}, "bad_price"),
    ({"ts": "2025-01-07T10:30:00Z", "type": "unknown_thing", "x": 1}, "unknown_type"),
])
def test_bad_lines_of_that_layout_say_why(fields, reason):
    with pytest.raises(BadLine) as exc:
        parse_line(orjson.dumps(fields))
    assert exc.value.reason == reason


def test_a_time_without_offset_is_in_the_types_zone():
    line = b'{"ts": "2025-01-07T05:30:00", "type": "vix", "last": 15.0}'
    assert parse_line(line).t == T                          # 05:30 New York (the vix zone) = 10:30 UTC
    assert parse_line(line, zones={"*": "UTC"}).t == T - 5 * 3600


# ---- a day folder in seed 002's layout ------------------------------------------------------------

_LABEL = {"call_resistance": "Call Resistance", "put_support": "Put Support", "hvl": "HVL", "1d_min": "1D Min",
          "1d_max": "1D Max", "call_resistance_0dte": "Call Resistance 0DTE", "put_support_0dte": "Put Support 0DTE",
          "hvl_0dte": "HVL 0DTE", "gamma_wall_0dte": "Gamma Wall 0DTE",
          **{f"gex_{k}": f"GEX {k}" for k in range(1, 11)},
          **{f"blind_spot_{k}": f"Blind Spot {k + 1}" for k in range(10)}}
_INDEXED = ("vwap", "vva", "atr")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def as_seed_002(source, day: str, folder, per_chart: bool):
    """The events of ``source`` written in seed 002's layout: ISO times, basedata without a bar
    index (its studies numbered by the bar's minute, as that layout numbers bars), charts as
    strings, MenthorQ levels with labels, VIX with a policy; one unified file, or per-chart files."""
    events = list(replay([source]))
    minute_of = {}                                          # chart-3 bar index -> the minute it opens
    for e in events:
        if e.type == "basedata" and e.chart == 3 and e.f["i"] not in minute_of:
            minute_of[e.f["i"]] = int((e.t + 0.1) // 60)
    out: dict[str, list[bytes]] = {}
    for e in events:
        f = {k: v for k, v in e.f.items() if k not in ("t", "chart", "type")}
        f["ts"] = _iso(e.t)
        f["chart"] = str(e.chart)
        typ = e.type
        if typ == "basedata":
            for short, long in (("o", "open"), ("h", "high"), ("l", "low"), ("c", "close"), ("v", "volume")):
                f[long] = f.pop(short)
            if e.chart == 3:
                del f["i"]
        elif typ in _INDEXED and e.chart == 3 and "i" in f:
            f["i"] = minute_of.get(f["i"], f["i"])
        elif typ == "menthorq_level":
            typ = "menthorq_gamma_levels"
            f["label"] = _LABEL[f.pop("level_type")]
        elif typ == "vix":
            f["policy"] = "normal"
        f["type"] = typ
        name = f"chart_{e.chart}_{typ}_{day}.jsonl" if per_chart else f"mia_unified_{day}.jsonl"
        out.setdefault(name, []).append(orjson.dumps(f))
    folder.mkdir(parents=True)
    for name, lines in out.items():
        (folder / name).write_bytes(b"\n".join(lines) + b"\n")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed002")
    common = root / "common" / "20251120"
    assert main(["simulate", "--date", "2025-11-20", "--out", str(common), "--seed", "4", "--minutes", "30",
                 "--quiet"]) == 0
    as_seed_002(common, "20251120", root / "unified" / "20251120", per_chart=False)
    as_seed_002(common, "20251120", root / "per_chart" / "20251120", per_chart=True)
    return root


@pytest.mark.parametrize("layout", ["unified", "per_chart"])
def test_a_seed_002_folder_reads_as_the_same_events(session, layout):
    # the same events at the same times (to the microsecond the ISO strings keep)
    want = [(round(e.t, 5), e.type, e.chart) for e in replay([session / "common"])]
    bad = BadLines()
    got = [(round(e.t, 5), e.type, e.chart) for e in replay([session / layout], bad=bad)]
    assert bad.total == 0 and sorted(got) == sorted(want)
    # the columnar reader (numba scanner: those lines go to the exact path) agrees with replay
    bad2 = BadLines()
    cols = [blk.event(i) for blk in blocks([session / layout], bad=bad2) for i in range(len(blk.t))]
    assert bad2.total == 0
    assert [(e.t, e.type, e.chart, e.f) for e in cols] == [(e.t, e.type, e.chart, e.f) for e in replay([session / layout])]


@pytest.mark.parametrize("layout", ["unified", "per_chart"])
def test_a_seed_002_folder_backtests_as_the_common_layout(session, tmp_path, layout):
    outs = {}
    for name in ("common", layout):
        out = tmp_path / name
        assert main(["backtest", "--data", str(session / name), "--out", str(out), "--no-progress",
                     "--no-cache"]) == 0
        outs[name] = out
    for f in ("trades.csv", "decisions.jsonl"):
        assert (outs[layout] / f).read_bytes() == (outs["common"] / f).read_bytes(), f
    decisions = (outs["common"] / "decisions.jsonl").read_text()
    assert '"action":"none"' in decisions and decisions.count("\n") >= 30
