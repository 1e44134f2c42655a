"""Live tail: partial lines wait, rotation, truncation, replacement, deletion; counts are exact."""
from __future__ import annotations

import os

from mia.market.tail import Tail
from sierra_lines import T0, bar, trade


def append(path, text):
    with open(path, "a") as fh:
        fh.write(text)


def test_partial_line_waits_for_its_end(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    full = trade(T0, 5000.0)
    f.write_text(trade(T0 - 1, 4999.75) + full[:20])
    tail = Tail(tmp_path)
    assert [e.f["px"] for e in tail.poll()] == [4999.75]
    assert tail.poll() == []
    append(f, full[20:])
    assert [e.f["px"] for e in tail.poll()] == [5000.0]
    assert tail.bad.total == 0


def test_new_files_and_a_new_day_are_picked_up(tmp_path):
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0))
    tail = Tail(tmp_path)
    assert len(tail.poll()) == 1
    (tmp_path / "chart_3_basedata_20251120.jsonl").write_text(bar(T0 + 1, 1, 5000.0))
    (tmp_path / "chart_3_trade_20251121.jsonl").write_text(trade(T0 + 86400, 5001.0))
    got = tail.poll()
    assert [(e.type, e.f.get("px", e.f.get("c"))) for e in got] == [("basedata", 5000.0), ("trade", 5001.0)]


def test_truncated_replaced_and_deleted_files(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0, 5000.0) + trade(T0 + 1, 5000.25))
    tail = Tail(tmp_path)
    assert len(tail.poll()) == 2
    f.write_text(trade(T0 + 2, 5000.5))                    # truncated and rewritten shorter
    assert [e.f["px"] for e in tail.poll()] == [5000.5]
    other = tmp_path / "new.tmp"
    other.write_text(trade(T0 + 3, 5001.0) + trade(T0 + 4, 5001.25) + trade(T0 + 5, 5001.5))
    os.replace(other, f)                                   # replaced under the reader (a new inode)
    assert [e.f["px"] for e in tail.poll()] == [5001.0, 5001.25, 5001.5]
    f.unlink()
    assert tail.poll() == []
    f.write_text(trade(T0 + 6, 5002.0))                    # back again: read from its start
    assert [e.f["px"] for e in tail.poll()] == [5002.0]


def test_garbage_is_counted_and_skipped(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text("garbage\n" + trade(T0, 5000.0) + '{"t": 45981.6, "type": "trade"}\n')
    tail = Tail(tmp_path)
    assert len(tail.poll()) == 1
    assert tail.bad.by_reason() == {"invalid_json": 1, "missing_field": 1}


def test_follow_stops_and_sleeps_between_empty_polls(tmp_path):
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0))
    calls = []
    tail = Tail(tmp_path)
    poll = tail.poll

    def counted_poll():
        got = poll()
        calls.append(("poll", len(got)))
        return got

    tail.poll = counted_poll
    out = list(tail.follow(interval=0.25, stop=lambda: sum(c[0] == "poll" for c in calls) >= 4,
                           sleep=lambda s: calls.append(("sleep", s))))
    assert [e.f["px"] for e in out] == [5000.0]
    # a sleep of the interval after every poll, the empty ones included; none after the last
    assert calls == [("poll", 1), ("sleep", 0.25), ("poll", 0), ("sleep", 0.25),
                     ("poll", 0), ("sleep", 0.25), ("poll", 0)]
