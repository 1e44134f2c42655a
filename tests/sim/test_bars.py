"""Bars and bar studies agree with the trades written beside them (computed here from trade lines)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from hypothesis import given, settings, strategies as st
from simdata import epoch_ms, write_session

from profiles import examples


def minute_of_bar(session, line) -> int:
    ms = epoch_ms(line["t"], session.ny)
    return ms - ms % 60000


def expected_bar(trades):
    px = [t["px"] for t in trades]
    return {"o": px[0], "h": max(px), "l": min(px), "c": px[-1], "v": sum(t["vol"] for t in trades),
            "bidvol": sum(t["vol"] for t in trades if t["side"] == "SELL"),
            "askvol": sum(t["vol"] for t in trades if t["side"] == "BUY")}


def check_bars_match_trades(session):
    by_minute = session.trades_by_minute()
    bars = session.final_bars()
    assert sorted(minute_of_bar(session, b) for b in bars.values()) == sorted(by_minute)
    for b in bars.values():
        want = expected_bar(by_minute[minute_of_bar(session, b)])
        assert {k: b[k] for k in want} == want, b


def test_final_bar_of_each_minute_is_the_trades_of_that_minute(session):
    check_bars_match_trades(session)


def test_a_bar_is_rewritten_many_times_and_only_grows(session):
    per_i = defaultdict(list)
    for b in session.of(3, "basedata"):
        per_i[b["i"]].append(b)
    assert np.mean([len(v) for v in per_i.values()]) > 10
    for lines in per_i.values():
        assert all(a["v"] < b["v"] and a["h"] <= b["h"] and a["l"] >= b["l"] and a["o"] == b["o"]
                   for a, b in zip(lines, lines[1:]))
    assert sorted(per_i) == list(range(min(per_i), min(per_i) + len(per_i)))


def final_per_i(lines):
    return {x["i"]: x for x in lines}


def test_vwap_and_bands_from_the_trades(session):
    by_minute = session.trades_by_minute()
    bars = session.final_bars()
    seen = []
    for i, line in sorted(final_per_i(session.of(3, "vwap")).items()):
        seen += by_minute[minute_of_bar(session, bars[i])]
        px = np.array([t["px"] for t in seen])
        vol = np.array([t["vol"] for t in seen], dtype=float)
        vwap = (px * vol).sum() / vol.sum()
        sd = np.sqrt((vol * (px - vwap) ** 2).sum() / vol.sum())
        assert abs(line["v"] - vwap) < 1e-3
        for k in (1, 2, 3):
            assert abs(line[f"up{k}"] - (vwap + k * sd)) < 1e-3 and abs(line[f"dn{k}"] - (vwap - k * sd)) < 1e-3


def test_nbcv_and_cumulative_delta_from_the_trades(session):
    by_minute = session.trades_by_minute()
    bars = session.final_bars()
    nbcv = final_per_i(session.of(3, "nbcv"))
    cd = final_per_i(session.of(3, "cumulative_delta"))
    cum = 0
    for i in sorted(bars):
        trades = by_minute[minute_of_bar(session, bars[i])]
        ask = sum(t["vol"] for t in trades if t["side"] == "BUY")
        bid = sum(t["vol"] for t in trades if t["side"] == "SELL")
        cum += ask - bid
        n = nbcv[i]
        assert (n["ask_volume"], n["bid_volume"], n["delta"], n["trades"], n["total_volume"]) == \
            (ask, bid, ask - bid, len(trades), ask + bid)
        assert n["cumulative_delta"] == cum and cd[i]["close"] == cum
        assert abs(n["delta_ratio"] - (ask - bid) / (ask + bid)) < 1e-4


def test_value_area_holds_70_percent_around_a_poc(session):
    by_minute = session.trades_by_minute()
    bars = session.final_bars()
    profile = defaultdict(int)
    vva = session.of(3, "vva")
    assert [x["i"] for x in vva] == sorted(bars)
    for line in vva:
        for t in by_minute[minute_of_bar(session, bars[line["i"]])]:
            profile[t["px"]] += t["vol"]
        total = sum(profile.values())
        assert profile[line["vpoc"]] == max(profile.values())
        assert line["val"] <= line["vpoc"] <= line["vah"]
        inside = sum(v for p, v in profile.items() if line["val"] <= p <= line["vah"])
        assert inside >= 0.7 * total
        assert line["pval"] < line["ppoc"] < line["pvah"] and line["id_curr"] != line["id_prev"]


def test_atr_follows_wilder_over_the_final_bars(session):
    bars = session.final_bars()
    atr = session.of(3, "atr")
    assert [x["i"] for x in atr] == sorted(bars)
    prev_atr, prev_close = None, None
    for line in atr:
        b = bars[line["i"]]
        assert line["atr"] > 0
        if prev_atr is not None:
            tr = max(b["h"] - b["l"], abs(b["h"] - prev_close), abs(b["l"] - prev_close))
            assert abs(line["atr"] - (13 * prev_atr + tr) / 14) < 1e-3
        prev_atr, prev_close = line["atr"], b["c"]


def test_thirty_minute_bars_aggregate_the_minutes(tmp_path):
    s = write_session(tmp_path / "s", seed=11, minutes=45, scale=0.3)
    bars = [s.final_bars()[i] for i in sorted(s.final_bars())]
    groups = [bars[:30], bars[30:]]
    thirty = final_per_i(s.of(4, "basedata"))
    assert len(thirty) == 2
    for got, group in zip([thirty[i] for i in sorted(thirty)], groups):
        assert got["o"] == group[0]["o"] and got["c"] == group[-1]["c"]
        assert got["h"] == max(b["h"] for b in group) and got["l"] == min(b["l"] for b in group)
        assert got["v"] == sum(b["v"] for b in group)
        assert got["bidvol"] + got["askvol"] == got["v"]


@settings(max_examples=examples(10))
@given(seed=st.integers(0, 2**31 - 1), minutes=st.integers(1, 3), scale=st.sampled_from([0.2, 1.0]))
def test_any_seed_gives_consistent_bars_and_quotes(tmp_path_factory, seed, minutes, scale):
    s = write_session(tmp_path_factory.mktemp("p"), seed=seed, minutes=minutes, scale=scale)
    check_bars_match_trades(s)
    assert all(q["bid"] < q["ask"] for q in s.of(3, "quote"))
    assert all(abs(t["px"] * 4 - round(t["px"] * 4)) < 1e-9 for t in s.of(3, "trade"))
