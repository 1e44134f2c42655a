"""One line stamped far ahead of its file (a dumper's glitch) costs that line, not the rest of the
file: replay, the block reader (at any chunk size) and the live tail agree; a real gap in the
data (a quiet market) loses nothing."""
from __future__ import annotations

import pytest

import mia.market.columnar.blocks as blocks_mod
from mia.market.columnar.blocks import blocks
from mia.market.order import JUMP_S
from mia.market.replay import replay
from mia.market.sierra import BadLines
from mia.market.tail import Tail
from replay_oracle import oracle_replay
from sierra_lines import T0, quote_line, trade

HOURS = 3600.0


def day(tmp_path, trades: list[str], quotes: list[str] | None = None):
    folder = tmp_path / "20251120"
    folder.mkdir(exist_ok=True)
    (folder / "chart_3_trade_20251120.jsonl").write_text("".join(trades))
    if quotes is not None:
        (folder / "chart_3_quote_20251120.jsonl").write_text("".join(quotes))
    return folder


def replayed(folder):
    bad, bad_oracle = BadLines(), BadLines()
    events = list(replay([folder], bad=bad))
    assert events == oracle_replay(folder, bad_oracle) and bad.counts == bad_oracle.counts
    return [(e.t, e.type, e.f.get("px", e.f.get("bid"))) for e in events], bad.by_reason()


def blocked(folder):
    bad = BadLines()
    out = []
    for b in blocks([folder], bad=bad):
        for i in range(len(b.t)):
            e = b.event(i)
            out.append((float(b.t[i]), e.type, e.f.get("px", e.f.get("bid"))))
    return out, bad.by_reason()


@pytest.mark.parametrize("chunk", [1 << 20, 97, 200, 333])
def test_a_line_far_ahead_is_the_bad_one(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(blocks_mod, "CHUNK", chunk)
    lines = [trade(T0 + k, 5000.0 + 0.25 * k) for k in range(20)]
    lines.insert(8, trade(T0 + 2.3 * HOURS, 9999.0))              # the glitch
    folder = day(tmp_path, lines)
    events, reasons = replayed(folder)
    assert reasons == {"out_of_order": 1}
    assert [px for _, _, px in events] == [5000.0 + 0.25 * k for k in range(20)]
    assert blocked(folder) == (events, reasons)


@pytest.mark.parametrize("chunk", [1 << 20, 150])
def test_a_quiet_market_loses_nothing(tmp_path, monkeypatch, chunk):
    """A gap longer than JUMP_S is confirmed by the line after it; a jump at the very end is kept."""
    monkeypatch.setattr(blocks_mod, "CHUNK", chunk)
    times = [T0, T0 + 1, T0 + 2, T0 + 2 + 2 * JUMP_S, T0 + 3 + 2 * JUMP_S, T0 + 3 + 2 * JUMP_S,
             T0 + 4 + 5 * JUMP_S]
    lines = [trade(t, 5000.0 + k) for k, t in enumerate(times)]
    folder = day(tmp_path, lines)
    events, reasons = replayed(folder)
    assert reasons == {}
    assert [t for t, _, _ in events] == pytest.approx(times, abs=0.1)
    assert blocked(folder) == (events, reasons)


def test_a_jump_confirmed_then_a_late_line_is_out_of_order(tmp_path):
    lines = [trade(T0, 5001.0), trade(T0 + 2 * JUMP_S, 5002.0), trade(T0 + 2 * JUMP_S + 1, 5003.0),
             trade(T0 + 5, 5004.0)]
    folder = day(tmp_path, lines)
    events, reasons = replayed(folder)
    assert [px for _, _, px in events] == [5001.0, 5002.0, 5003.0] and reasons == {"out_of_order": 1}
    assert blocked(folder) == (events, reasons)


def test_the_merge_clock_is_not_dragged_ahead(tmp_path):
    """Without the rule the glitch would stamp every later quote at its time."""
    trades = [trade(T0 + k, 5000.0) for k in range(10)]
    trades.insert(3, trade(T0 + 2.3 * HOURS, 9999.0))
    quotes = [quote_line(T0 + k + 0.5, 4999.75) for k in range(10)]
    folder = day(tmp_path, trades, quotes)
    events, reasons = replayed(folder)
    assert reasons == {"out_of_order": 1}
    assert max(t for t, _, _ in events) == pytest.approx(T0 + 9.5, abs=0.1)
    assert blocked(folder) == (events, reasons)


def test_live_tail_holds_a_jump_until_confirmed_or_reached(tmp_path):
    folder = tmp_path / "20251120"
    folder.mkdir()
    trades, quotes = folder / "chart_3_trade_20251120.jsonl", folder / "chart_3_quote_20251120.jsonl"
    trades.write_text(trade(T0, 5001.0) + trade(T0 + 1, 5002.0) + trade(T0 + 2.3 * HOURS, 9999.0))
    quotes.write_text(quote_line(T0 + 0.5, 5001.0))
    clock = [T0 + 2]                                               # the wall clock, as the test sets it
    tail = Tail(folder, now=lambda: clock[0])
    assert [e.f.get("px") for e in tail.poll() if e.type == "trade"] == [5001.0, 5002.0]   # 9999 waits
    with open(trades, "a") as fh:
        fh.write(trade(T0 + 3, 5003.0))                               # contradicts it: it was a glitch
    clock[0] = T0 + 3
    assert [e.f["px"] for e in tail.poll()] == [5003.0]
    assert tail.bad.by_reason() == {"out_of_order": 1}
    with open(trades, "a") as fh:
        fh.write(trade(T0 + 3 + 2 * JUMP_S, 5004.0))                  # after a quiet market, in the future yet
    assert tail.poll() == []
    clock[0] = T0 + 3 + 2 * JUMP_S                                 # now it is not: a real gap
    assert [(e.type, e.f["px"]) for e in tail.poll()] == [("trade", 5004.0)]
    with open(quotes, "a") as fh:
        fh.write(quote_line(T0 + 4 + 2 * JUMP_S, 5002.0))
    clock[0] += 1
    assert [e.type for e in tail.poll()] == ["quote"]
    assert tail.bad.by_reason() == {"out_of_order": 1}
