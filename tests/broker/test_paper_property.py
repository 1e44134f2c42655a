"""Invariants of the paper broker over random ES trade walks (hypothesis): entries of 2 contracts,
market or limit, one at a time as the session sends them."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from profiles import examples

from mia.broker import OrderIntent, PaperBroker

steps = st.lists(st.tuples(st.integers(-6, 6), st.integers(1, 4), st.sampled_from(["none", "mkt", "lmt"])),
                 min_size=1, max_size=120)


@settings(max_examples=examples(150))
@given(steps, st.sampled_from([1, -1]))
def test_bookkeeping_invariants(walk, side):
    b = PaperBroker(0.25, 12.5, slippage_ticks=1.0, commission_per_contract=2.25)
    price, n = 5000.0, 0
    for i, (move, size, action) in enumerate(walk):
        if action != "none" and b.position == 0 and not b.working:      # as the session: one entry at a time
            n += 1
            kind = "market" if action == "mkt" else "limit"
            b.submit(OrderIntent(f"o{n}", i, side, 2, kind, price - side * 0.5 if kind == "limit" else None,
                                 8, 12, "t"))
        price += move * 0.25
        b.on_trade(float(i), price, size)
        # one entry of 2 at a time: 0, 1 (a partial limit fill) or 2 contracts on the entry's side, the
        # bracket as large as the position, the entry's rest and the position never above the order
        assert b.position * side in (0, 1, 2)
        legs = sorted((w.role, w.qty, w.side) for w in b.working if w.role != "entry")
        held = abs(b.position)
        assert legs == ([] if not held else [("stop", held, -side), ("target", held, -side)])
        assert sum(w.qty for w in b.working if w.role == "entry") + held <= 2
    b.flatten(1e9, price)
    assert b.position == 0 and b.working == [] and b.flatten(1e9, price) == []
    total = 0.0
    for tr in b.closed_trades:
        pts = (tr.exit_price - tr.entry_price) * tr.side
        assert tr.gross_usd == pytest.approx(pts * 50 * tr.qty)
        assert tr.commission_usd == pytest.approx(2 * 2.25 * tr.qty)
        assert tr.net_usd == pytest.approx(tr.gross_usd - tr.commission_usd)
        assert tr.r_multiple == pytest.approx(pts / 2.0)
        if tr.exit_role == "target":
            assert tr.r_multiple == pytest.approx(1.5)          # 12 ticks / 8 ticks, no slippage
        if tr.exit_role == "stop":
            assert tr.r_multiple <= -9 / 8 + 1e-9               # at least stop + 1 tick slippage
        total += tr.net_usd
    assert b.realized_usd == pytest.approx(total)
