"""The order rule and the merge (``mia.market.order``): the rule's two twins agree at any chunking,
the merge equals the plainest k-way merge at any chunking, and replay equals a replay built from
that plain merge (``replay_oracle``)."""
from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from profiles import examples

from mia.market.events import event
from mia.market.order import JUMP_S, TOLERANCE_S, EventRun, StreamOrder, merge_lists, merged_events
from mia.market.replay import replay
from mia.market.sierra import BadLines
from mia.market.sim import SimConfig, simulate
from replay_oracle import oracle_replay, plain_merge
from sierra_lines import T0, bar, quote_line, trade


def chunked(items: list, cuts: list[int]) -> list[list]:
    bounds = sorted({min(c, len(items)) for c in cuts} | {0, len(items)})
    return [items[a:b] for a, b in zip(bounds, bounds[1:])]


runs = st.lists(st.lists(st.integers(0, 30), max_size=20), max_size=6)      # unsorted runs too
cuts = st.lists(st.integers(0, 20), max_size=4)


@settings(max_examples=examples(100))
@given(runs, st.lists(cuts, min_size=6, max_size=6), st.floats(-5, 40))
def test_the_merge_is_the_plain_merge_at_any_chunking(lists, cut, clock):
    evs = [[event(t, "trade", chart=k, px=n) for n, t in enumerate(ts)] for k, ts in enumerate(lists)]
    want, c = [], clock
    for ev in plain_merge(evs):
        c = max(c, ev.t)
        want.append((c, ev.chart, ev.f["px"]))
    got, end = [], clock
    for out, end in merged_events([EventRun(chunked(e, cut[k])) for k, e in enumerate(evs)], clock):
        got += [(e.t, e.chart, e.f["px"]) for e in out]
    assert got == want and end == (want[-1][0] if want else clock)
    merged, end2 = merge_lists(evs, clock)
    assert [(e.t, e.chart, e.f["px"]) for e in merged] == want and end2 == end


steps = st.lists(st.one_of(st.floats(-3 * TOLERANCE_S, 3 * TOLERANCE_S), st.floats(-2 * JUMP_S, 3 * JUMP_S),
                           st.just(0.0)), max_size=40)


@settings(max_examples=examples(200), deadline=None)
@given(steps, cuts, st.lists(st.integers(0, 12), min_size=41, max_size=41),
       st.lists(st.sampled_from([1.0, 1.0, 1.0, 1.01, 0.5, 1e6]), min_size=41, max_size=41))
def test_the_rules_do_not_depend_on_the_chunking(deltas, cut, seqs, moves):
    """``StreamOrder.judge`` (times, duplicate seqs, prices that jump) keeps, clamps and drops the
    same lines however a file is cut into chunks, and at the same verdicts as one whole chunk."""
    times = list(np.cumsum([T0, *deltas]))
    px = list(np.cumprod([5000.0, *moves[:len(deltas)]]))
    lines = [event(t, "trade", px=p, vol=1, seq=s, k=k) for k, (t, p, s) in enumerate(zip(times, px, seqs))]

    def judged(parts):
        order, bad = StreamOrder((3, "trade")), []
        out = []
        for part in parts:
            out += order.judge([e._replace(f=dict(e.f)) for e in part], bad.append)
        out += order.flush()
        return [(e.f["k"], e.t) for e in out], sorted(bad)

    whole = judged([lines])
    assert judged(chunked(lines, cut)) == whole
    kept, bad = whole
    assert len(kept) + len(bad) == len(lines)
    assert [t for _, t in kept] == sorted(t for _, t in kept)        # clamped: never back in time


def test_replay_is_the_oracle_on_simulated_days(tmp_path):
    for k, day in enumerate((dt.date(2025, 11, 19), dt.date(2025, 11, 20))):
        simulate(SimConfig(day=day, seed=11 + k, minutes=3, unified=k == 1), tmp_path / f"{day:%Y%m%d}")
    for p in (tmp_path / "20251120").glob("chart_*"):
        p.unlink()                                     # the second day: only its unified file
    bad, bad_ref = BadLines(), BadLines()
    assert list(replay([tmp_path], bad=bad)) == oracle_replay(tmp_path, bad_ref)
    assert bad.counts == bad_ref.counts


def test_replay_is_the_oracle_on_lagging_and_bar_stamped_files(tmp_path):
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(
        "".join(trade(T0 + k, 5000.0 + k) for k in range(5)) + trade(T0 + 3.5, 5003.5) + trade(T0 + 1, 5001.5)
        + trade(T0 + 10, 5010.0))
    (tmp_path / "chart_3_basedata_20251120.jsonl").write_text(bar(T0, 1, 5000.0) + bar(T0 + 60, 2, 5000.5))
    (tmp_path / "chart_3_quote_20251120.jsonl").write_text(
        quote_line(T0 + 0.5, 4999.75) + quote_line(T0 + 0.5, 4999.5) + quote_line(T0 + 9, 5000.0))
    bad, bad_ref = BadLines(), BadLines()
    got = list(replay([tmp_path], bad=bad))
    assert got == oracle_replay(tmp_path, bad_ref) and bad.counts == bad_ref.counts
    assert [e.t for e in got] == sorted(e.t for e in got) and bad.by_reason() == {"out_of_order": 1}
