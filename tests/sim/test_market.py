"""Market realism: tick grid, bid < ask, sides at the touch, clustering, sequences, times."""
from __future__ import annotations

import numpy as np
from simdata import epoch_ms


def on_grid(x: float) -> bool:
    return abs(x * 4 - round(x * 4)) < 1e-9


def test_prices_on_the_tick_grid(session):
    for tr in session.of(3, "trade"):
        assert on_grid(tr["px"])
    for q in session.of(3, "quote"):
        assert on_grid(q["bid"]) and on_grid(q["ask"])
    for d in session.of(3, "depth"):
        assert on_grid(d["price"])
    for b in session.of(3, "basedata"):
        assert all(on_grid(b[k]) for k in "ohlc")


def test_bid_below_ask_and_spread_mostly_one_tick(session):
    spreads = np.array([round((q["ask"] - q["bid"]) * 4) for q in session.of(3, "quote")])
    assert spreads.min() >= 1 and spreads.max() <= 3
    assert (spreads == 1).mean() > 0.75
    assert (spreads > 1).any()


def test_trades_print_at_the_prevailing_quote(session):
    quotes = session.of(3, "quote")
    qseq = np.array([q["seq"] for q in quotes])
    for tr in session.of(3, "trade"):
        q = quotes[int(np.searchsorted(qseq, tr["seq"])) - 1]
        assert tr["px"] == (q["ask"] if tr["side"] == "BUY" else q["bid"])


def test_sequences_increase_across_trades_and_quotes(session):
    for kind in ("trade", "quote"):
        seq = [x["seq"] for x in session.of(3, kind)]
        assert all(a < b for a, b in zip(seq, seq[1:]))
    both = sorted([x["seq"] for x in session.of(3, "trade")] + [x["seq"] for x in session.of(3, "quote")])
    assert len(set(both)) == len(both)


def test_times_inside_the_session_and_non_decreasing(session):
    zone = {"trade": 0.0, "quote": 0.0}
    start_ms, end_ms = session.start * 1000, session.end * 1000
    for name, lines in session.files.items():
        if name.startswith("mia_unified_"):
            continue
        kind = lines[0].get("type", "chart4")
        ms = [epoch_ms(x["t"], zone.get(kind, session.ny)) for x in lines]
        assert all(a <= b for a, b in zip(ms, ms[1:])), name
        assert start_ms <= ms[0] and ms[-1] < end_ms, name


def test_depth_lines_carry_the_bar_start(session):
    """t of a depth line is a minute start (to the 86.4 ms SCDateTime grid), the bar forming then."""
    for d in session.of(3, "depth"):
        assert epoch_ms(d["t"], session.ny) % 60000 < 87
    minutes = {epoch_ms(d["t"], session.ny) // 60000 for d in session.of(3, "depth")}
    assert len(minutes) == session.cfg.minutes


def test_depth_book_is_ten_levels_stepping_from_the_last_quote(session):
    """Replaying the depth lines leaves a book whose touch is the last quote, 1 tick per level."""
    book = {}
    for d in session.of(3, "depth"):
        book[(d["side"], d["lvl"])] = d["price"]
    last = session.of(3, "quote")[-1]
    assert book[("BID", 1)] == last["bid"] and book[("ASK", 1)] == last["ask"]
    for side, step in (("BID", -0.25), ("ASK", 0.25)):
        prices = [book[(side, k)] for k in range(1, 11)]
        assert np.allclose(np.diff(prices), step), (side, prices)


def test_trade_arrivals_are_bursty(session):
    """Counts per second are overdispersed (variance well above the mean of a plain Poisson)."""
    secs = np.array([epoch_ms(tr["t"]) // 1000 for tr in session.of(3, "trade")])
    counts = np.bincount(secs - secs.min())
    assert counts.var() > 2 * counts.mean()


def test_the_open_is_busier_than_later(tmp_path):
    from simdata import write_session
    s = write_session(tmp_path / "long", seed=3, minutes=120, scale=0.5)
    bars = s.final_bars()
    vols = [bars[i]["v"] for i in sorted(bars)]
    assert np.mean(vols[:10]) > np.mean(vols[60:120])
