"""Hostile data lines (issue 10): duplicates, glitched and renumbered bar indexes, a unified file
beside a stray per-chart file, lines of another day, bad optional fields, numbers a double cannot
hold, prices far off and sizes that are not whole, a file with CR line ends. Every case is read by
every reader (``hostile_data.every_path``: replay, the columnar reader at several chunk sizes, the
day cache cold and warm, the live tail), which must agree; nothing raises."""
from __future__ import annotations

import json
import re

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_data import (DAY, T0, bar, copy_day, every_path, features, lines_of, same_features, sim_day,
                          trade, write)
from mia.cli import main
from mia.market.replay import inspect


@pytest.fixture(scope="module")
def day20(tmp_path_factory):
    """20 simulated minutes, never modified (tests copy it)."""
    return sim_day(tmp_path_factory.mktemp("clean"), minutes=20)


@pytest.fixture(scope="module")
def day5(tmp_path_factory):
    return sim_day(tmp_path_factory.mktemp("clean5"), minutes=5)


def name(kind: str, chart: int = 3) -> str:
    return f"chart_{chart}_{kind}_{DAY}.jsonl"


def edit(line: bytes, **changes) -> bytes:
    d = orjson.loads(line)
    d.update(changes)
    return orjson.dumps(d) + b"\n"


# ---- duplicates ----------------------------------------------------------------------------------

def test_duplicated_lines_are_counted_once_in_every_reader(day20, tmp_path):
    """Exact copies, copies 1 s earlier (inside the 2 s tolerance: they used to be clamped in and
    counted twice in volume, delta and VWAP) and a restarted dumper's rewrite of earlier lines."""
    dirty = copy_day(day20, tmp_path / "dirty" / DAY)
    trades, quotes = dirty / name("trade"), dirty / name("quote")
    lines = lines_of(trades)
    out, dups = [], 0
    for k, ln in enumerate(lines):
        out.append(ln)
        if k % 50 == 10:
            out.append(ln)                                          # the same line twice
            dups += 1
        elif k % 50 == 30:
            d = orjson.loads(ln)
            out.append(edit(ln, t=round(d["t"] - 1 / 86400, 6)))    # the same seq, 1 s earlier
            dups += 1
    out += lines[100:200]                                           # a restarted dumper
    dups += 100
    trades.write_bytes(b"".join(out))
    qlines = lines_of(quotes)
    quotes.write_bytes(b"".join(qlines[:500] + qlines[450:500] + qlines[500:]))
    dups += 50
    want, clean_reasons = every_path([day20], tmp_path)
    got, reasons = every_path([dirty], tmp_path)
    assert clean_reasons == {} and reasons == {"duplicate": dups}
    assert got == want
    assert same_features(features([dirty]), features([day20]))      # volume, delta, VWAP counted once


def test_the_live_tail_does_not_count_a_rewritten_file_twice(day5, tmp_path):
    """A dumper that restarts and writes its file again from the start (a new inode)."""
    from mia.market.tail import Tail

    folder = copy_day(day5, tmp_path / DAY)
    tail = Tail(folder)
    first = [e for e in tail.poll() if e.type == "trade"]
    trades = folder / name("trade")
    lines = lines_of(trades)
    assert len(first) == len(lines)
    trades.unlink()
    trades.write_bytes(b"".join(lines[10:]))                        # from an earlier line on, a new file
    assert [e for e in tail.poll() if e.type == "trade"] == []
    assert tail.bad.by_reason() == {"duplicate": len(lines) - 10}


# ---- bar indexes ---------------------------------------------------------------------------------

def test_one_glitched_bar_index_costs_one_line(day20, tmp_path):
    """Issue 10: i 7844 -> 99999 on one line dropped the rest of the day's bars (the next ones
    looked like late rewrites of older bars)."""
    dirty = copy_day(day20, tmp_path / DAY)
    bars = dirty / name("basedata")
    lines = lines_of(bars)
    k = next(j for j, ln in enumerate(lines) if orjson.loads(ln)["i"] == 7844)
    assert orjson.loads(lines[k + 1])["i"] == 7844                  # a bar update, rewritten after it
    lines[k] = edit(lines[k], i=99999)
    bars.write_bytes(b"".join(lines))
    got, reasons = every_path([dirty], tmp_path)
    assert reasons == {"bad_index": 1}
    clean, dirty_rows = features([day20]), features([dirty])
    assert len(dirty_rows) == len(clean) == 20
    assert same_features(dirty_rows, clean)


def test_a_chart_reload_that_renumbers_the_bars_loses_nothing(day20, tmp_path):
    """From minute 10 on, every indexed line of chart 3 carries i - 5000 (a reload that loaded
    fewer days): the bars and the studies attributed to them go on as if nothing happened."""
    dirty = copy_day(day20, tmp_path / DAY)
    for kind in ("basedata", "vwap", "vva", "atr", "nbcv", "cumulative_delta"):
        path = dirty / name(kind)
        out = []
        for ln in lines_of(path):
            d = orjson.loads(ln)
            out.append(edit(ln, i=d["i"] - 5000) if d["i"] >= 7840 else ln)
        path.write_bytes(b"".join(out))
    got, reasons = every_path([dirty], tmp_path)
    assert reasons == {}
    assert same_features(features([dirty]), features([day20]))


def test_a_late_rewrite_of_an_older_bar_is_still_a_late_rewrite(tmp_path):
    folder = tmp_path / DAY
    write(folder, name("basedata"), bar(T0, 10, 5000.0) + bar(T0 + 60, 11, 5001.0) + bar(T0 + 60, 11, 5001.5)
          + bar(T0 + 120, 12, 5002.0) + bar(T0 + 121, 12, 5002.5))
    got, reasons = every_path([folder], tmp_path)
    assert [k[3][0] for k in got] == [10, 11, 11, 12, 12] and reasons == {}


# ---- a unified file beside per-chart files ----------------------------------------------------------

def test_a_stray_per_chart_file_beside_a_unified_file_drops_nothing(tmp_path):
    """Issue 10: one per-chart file (a stray vix file) beside a unified day made the day 0 bars."""
    import datetime as dt

    from mia.market.sim import SimConfig, simulate

    both = tmp_path / "both" / DAY
    simulate(SimConfig(day=dt.date(2025, 11, 20), seed=4, minutes=10, unified=True), both)
    only = tmp_path / "only" / DAY
    only.mkdir(parents=True)
    (only / f"mia_unified_{DAY}.jsonl").write_bytes((both / f"mia_unified_{DAY}.jsonl").read_bytes())
    stray = tmp_path / "stray" / DAY
    stray.mkdir(parents=True)
    for f in (f"mia_unified_{DAY}.jsonl", name("vix", 8)):
        (stray / f).write_bytes((both / f).read_bytes())
    from collections import Counter

    from mia.dsl.catalog import FEATURES

    bars = [k for k, f in enumerate(FEATURES) if f.name in ("open", "high", "low", "close", "volume", "delta")]
    unified_rows = features([only])
    assert len(unified_rows) == 10
    # the bars from the unified file, the VIX from its own file (stamped by minute there, so read
    # a little earlier than in the unified file)
    assert same_features(features([stray])[:, bars], unified_rows[:, bars])
    got, reasons = every_path([stray], tmp_path, tail=False)
    want, _ = every_path([only], tmp_path, tail=False)
    assert Counter(k[1] for k in got) == Counter(k[1] for k in want) and reasons == {}
    per_chart, _ = every_path([both], tmp_path, tail=False)            # per-chart files + unified: read once
    assert Counter(k[1] for k in per_chart) == Counter(k[1] for k in want)


# ---- lines of another day ------------------------------------------------------------------------

def test_a_file_named_for_another_day_is_wrong_day_not_another_day(day5, tmp_path):
    """Issue 10: a file whose name carries another date than its lines was replayed as that day,
    its lines restamped onto one instant."""
    wrong = tmp_path / "20251121"
    wrong.mkdir()
    n = 0
    for p in day5.iterdir():
        if p.name.startswith("chart_"):
            (wrong / p.name.replace(DAY, "20251121")).write_bytes(p.read_bytes())
            n += len(lines_of(p))
    got, reasons = every_path([wrong], tmp_path)
    assert got == [] and reasons == {"wrong_day": n}
    root = tmp_path / "root"
    copy_day(day5, root / DAY)
    copy_day(wrong, root / "20251121")
    want, _ = every_path([day5], tmp_path)
    got, reasons = every_path([root], tmp_path)
    assert got == want and reasons == {"wrong_day": n}


def test_one_line_of_another_day_inside_a_file(tmp_path):
    folder = tmp_path / DAY
    write(folder, name("trade"), trade(T0, 5000.0) + trade(T0 + 3 * 86400, 5000.25) + trade(T0 + 1, 5000.5))
    got, reasons = every_path([folder], tmp_path)
    assert [k[3][1] for k in got] == [5000.0, 5000.5] and reasons == {"wrong_day": 1}


# ---- fields a consumer reads ---------------------------------------------------------------------

BAD_FIELDS = [
    ("vwap", {"dn2": ""}, "non_numeric_field"),
    ("vwap", {"i": [7830]}, "non_numeric_field"),
    ("vwap", {"up1": None}, "non_numeric_field"),
    ("vva", {"pvah": "x"}, "non_numeric_field"),
    ("vva", {"i": {"a": 1}}, "non_numeric_field"),
    ("atr", {"i": "7831"}, "non_numeric_field"),
    ("menthorq_level", {"level_type": ["x"]}, "bad_field"),
    ("menthorq_level", {"i": True}, "non_numeric_field"),
    ("basedata", {"bidvol": "x"}, "non_numeric_field"),
    ("basedata", {"v": -3}, "bad_size"),
    ("basedata", {"askvol": 2.5}, "bad_size"),
    ("trade", {"seq": "7"}, "non_numeric_field"),
    ("trade", {"sym": 5}, "bad_field"),
    ("trade", {"type": {"a": 1}}, "unknown_type"),
    ("quote", {"seq": [1]}, "non_numeric_field"),
    ("vix", {"i": "x"}, "non_numeric_field"),
]


@pytest.mark.parametrize("kind,change,reason", BAD_FIELDS)
def test_a_bad_field_a_consumer_reads_is_a_bad_line_in_every_reader(day5, tmp_path, kind, change, reason):
    folder = copy_day(day5, tmp_path / DAY)
    chart = {"vix": 8, "menthorq_level": 10}.get(kind, 3)
    path = folder / name(kind, chart)
    lines = lines_of(path)
    lines.insert(2, edit(lines[1], **change))
    path.write_bytes(b"".join(lines))
    got, reasons = every_path([folder], tmp_path)
    assert reasons == {reason: 1}


def test_backtest_and_signals_survive_every_bad_field(day5, tmp_path, capsys):
    """Issue 10: one such line killed `mia backtest` and `mia signals` with a traceback while
    `data inspect` said "no bad lines"."""
    folder = copy_day(day5, tmp_path / DAY)
    for kind, change, _ in BAD_FIELDS:
        chart = {"vix": 8, "menthorq_level": 10}.get(kind, 3)
        path = folder / name(kind, chart)
        lines = lines_of(path)
        lines.insert(2, edit(lines[1], **change))
        path.write_bytes(b"".join(lines))
    assert main(["backtest", "--data", str(folder), "--out", str(tmp_path / "run"), "--no-progress",
                 "--no-cache"]) == 0
    assert main(["signals", "--data", str(folder), "--quiet"]) == 0
    assert main(["data", "inspect", str(folder), "--json"]) == 0
    out = capsys.readouterr().out
    assert sum(json.loads(out[out.rindex('{\n  "types"'):])["bad"].values()) == len(BAD_FIELDS)


# ---- numbers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["trade", "quote", "depth", "basedata"])
@pytest.mark.parametrize("extra", [b'"seq":1e999', b'"x":-1e400', b'"tt":1' + b"0" * 320, b'"y":123.5e308'])
def test_a_number_no_double_holds_is_invalid_in_every_reader(day5, tmp_path, kind, extra):
    """Issue 10: the numba scanner took lines orjson refuses (an overflowing number in a field it
    does not keep), so `data inspect` and a backtest disagreed."""
    folder = copy_day(day5, tmp_path / DAY)
    path = folder / name(kind)
    lines = lines_of(path)
    lines.insert(2, lines[1].rstrip(b"}\n") + b"," + extra + b"}\n")
    path.write_bytes(b"".join(lines))
    got, reasons = every_path([folder], tmp_path, chunks=(1 << 20,))
    assert reasons == {"invalid_json": 1}


# ---- prices and sizes ----------------------------------------------------------------------------

def test_prices_far_off_and_sizes_that_are_not_whole(day5, tmp_path):
    folder = copy_day(day5, tmp_path / DAY)
    trades, quotes, bars = folder / name("trade"), folder / name("quote"), folder / name("basedata")
    t = lines_of(trades)
    t[50:50] = [edit(t[49], px=1e300, seq=10**9), edit(t[49], vol=1e300, seq=10**9 + 1),
                edit(t[49], vol=0.5, seq=10**9 + 2), edit(t[49], px=orjson.loads(t[49])["px"] * 1.5, seq=10**9 + 3)]
    trades.write_bytes(b"".join(t))
    q = lines_of(quotes)
    q[40:40] = [edit(q[39], bid=1e300, seq=10**9 + 4)]
    quotes.write_bytes(b"".join(q))
    b = lines_of(bars)
    b[30:30] = [edit(b[29], h=1e300)]
    bars.write_bytes(b"".join(b))
    got, reasons = every_path([folder], tmp_path)
    assert reasons == {"price_outlier": 4, "bad_size": 2}
    want, _ = every_path([day5], tmp_path)
    assert got == want


def test_a_real_gap_is_kept(tmp_path):
    """Prices that move past the band and stay there: the line after confirms the move."""
    folder = tmp_path / DAY
    write(folder, name("trade"), "".join(trade(T0 + k, 5000.0) for k in range(5))
          + "".join(trade(T0 + 5 + k, 5400.0 + k) for k in range(5)))
    got, reasons = every_path([folder], tmp_path)
    assert len(got) == 10 and reasons == {}


def test_the_price_band_is_a_setting(tmp_path, monkeypatch):
    folder = tmp_path / DAY
    write(folder, name("trade"), trade(T0, 5000.0) + trade(T0 + 1, 5150.0) + trade(T0 + 2, 5000.25))
    assert every_path([folder], tmp_path)[1] == {}                  # 3 % from the last: inside 5 %
    monkeypatch.setenv("MIA_PRICE_BAND", "2%")
    assert every_path([folder], tmp_path)[1] == {"price_outlier": 1}
    monkeypatch.setenv("MIA_PRICE_BAND", "0")
    assert every_path([folder], tmp_path)[1] == {}
    monkeypatch.setenv("MIA_PRICE_BAND", "lots")
    assert main(["data", "inspect", str(folder)]) == 1


# ---- line ends -----------------------------------------------------------------------------------

def test_a_file_with_cr_line_ends_says_how_many_bytes_went(day5, tmp_path, capsys):
    folder = copy_day(day5, tmp_path / DAY)
    path = folder / name("vva")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    info = inspect([folder])
    assert info["bad_by_file"][str(path)] == {"partial_line": 1}
    assert info["partial_bytes"] == {str(path): path.stat().st_size}
    assert main(["data", "inspect", str(folder)]) == 0
    assert re.search(r"partial_line \([\d,]+ bytes", capsys.readouterr().out.replace("\n", " "))


# ---- any stream: the readers agree -----------------------------------------------------------------

@st.composite
def trade_streams(draw):
    n = draw(st.integers(1, 30))
    t, px, out, seqs = T0, 5000.0, [], []
    for k in range(n):
        t += draw(st.sampled_from([0.0, 0.5, 1.0, -1.0, -3.0, 400.0, 2 * 86400.0]))
        px *= draw(st.sampled_from([1.0, 1.0, 1.001, 1.2, 0.5, 1e250]))
        px = min(px, 1e300)
        seq = draw(st.one_of(st.integers(1, 8), st.just(100 + k)))
        vol = draw(st.sampled_from([1, 2, 0.5, 1e300]))
        out.append(trade(t, round(px, 2), vol=vol, seq=seq))
    return "".join(out)


@st.composite
def bar_streams(draw):
    n = draw(st.integers(1, 25))
    t, i, out = T0, 7830, []
    for _ in range(n):
        step = draw(st.sampled_from([0, 0, 1, 1, 2, 99999, -5000, -1]))
        i = max(i + step, 0)
        t += draw(st.sampled_from([0.0, 60.0, 60.0, 120.0, -60.0]))
        out.append(bar(t, i, 5000.0 + draw(st.sampled_from([0.0, 0.25, 500.0]))))
    return "".join(out)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trade_streams(), bar_streams())
def test_hostile_streams_are_judged_alike_by_every_reader(tmp_path_factory, trades, bars):
    folder = tmp_path_factory.mktemp("s") / DAY
    write(folder, name("trade"), trades)
    write(folder, name("basedata"), bars)
    every_path([folder], folder.parent, chunks=(1 << 20, 61), tail=False)


@st.composite
def interleaved(draw):
    """A trade stream and a bar stream (duplicates, index glitches, price jumps; no time jump the
    per-chart rule would hold), and the order their lines are written in a unified file."""
    trades, bars = [], []
    t, px, i = T0, 5000.0, 7830
    for k in range(draw(st.integers(1, 25))):
        t += draw(st.sampled_from([0.0, 1.0, -1.0, -5.0]))
        px *= draw(st.sampled_from([1.0, 1.001, 1.3, 0.7]))
        trades.append(trade(t, round(px, 2), seq=draw(st.one_of(st.integers(1, 6), st.just(100 + k)))))
    tb = T0
    for _ in range(draw(st.integers(1, 25))):
        i = max(i + draw(st.sampled_from([0, 1, 1, 3, 99999, -5000])), 0)
        tb += draw(st.sampled_from([0.0, 60.0, -60.0]))
        bars.append(bar(tb, i, 5000.0 + draw(st.sampled_from([0.0, 0.25, 900.0]))))
    order = draw(st.permutations([0] * len(trades) + [1] * len(bars)))
    return trades, bars, order


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(interleaved())
def test_a_unified_file_judges_each_stream_as_its_own_file_would(tmp_path_factory, data):
    """Streams interleaved in a unified file: each one's lines are kept, fixed and dropped as in a
    per-chart file of its own, and the kept lines come out in file order."""
    from collections import Counter

    trades, bars, order = data
    root = tmp_path_factory.mktemp("u")
    split, unified = root / "split" / DAY, root / "unified" / DAY
    write(split, name("trade"), "".join(trades))
    write(split, name("basedata"), "".join(bars))
    it = [iter(trades), iter(bars)]
    write(unified, f"mia_unified_{DAY}.jsonl", "".join(next(it[k]) for k in order))
    a, ra = every_path([split], root, chunks=(1 << 20,), tail=False)
    b, rb = every_path([unified], root, chunks=(1 << 20, 61), tail=False)
    assert ra == rb
    for typ in ("trade", "basedata"):
        assert [k[3] for k in a if k[1] == typ] == [k[3] for k in b if k[1] == typ]
    assert Counter(k[1] for k in a) == Counter(k[1] for k in b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(trade_streams(), bar_streams()), st.lists(st.integers(1, 400), max_size=8))
def test_the_live_tail_judges_a_growing_file_as_the_whole_file(tmp_path_factory, text, cuts):
    """Polled while the file grows (cut anywhere, half lines included), the tail keeps, drops and
    holds exactly what one poll of the finished file does: the rules' state carries over."""
    from mia.market.tail import Tail

    kind = "trade" if '"trade"' in text else "basedata"
    root = tmp_path_factory.mktemp("g")
    grown, whole = root / "grown" / DAY, root / "whole" / DAY
    write(whole, name(kind), text)
    path = write(grown, name(kind), "")
    tail = Tail(grown, now=lambda: 0.0)
    got = []
    data = text.encode()
    for cut in sorted({min(c * 7, len(data)) for c in cuts} | {len(data)}):
        with open(path, "ab") as fh:
            fh.write(data[path.stat().st_size:cut])
        got += tail.poll()
    once = Tail(whole, now=lambda: 0.0)
    assert [(e.t, e.f) for e in got] == [(e.t, e.f) for e in once.poll()]
    assert tail.bad.by_reason() == once.bad.by_reason()
