"""Live tail, more faults: out-of-order lines judged like replay, files rewritten in place, folders
of day folders, unified-only days, a missing folder, and the first poll of a folder == its replay."""
from __future__ import annotations

import json
import os
import shutil

from mia.market.order import TOLERANCE_S
from mia.market.replay import replay
from mia.market.sierra import BadLines
from mia.market.tail import Tail
from sierra_lines import T0, bar, sc
from sierra_lines import trade as trade_at

#: prices here are written as steps from BASE (the price band would refuse a toy price that doubles)
BASE = 5000.0
_seq = iter(range(1, 10**6))


def trade(t, k):
    return trade_at(t, BASE + k)

NY_T = sc(T0, "America/New_York")


def append(path, text):
    with open(path, "a") as fh:
        fh.write(text)


def depth(t_sc, price):
    return json.dumps({"t": t_sc, "type": "depth", "side": "BID", "lvl": 1, "price": price, "size": 1,
                       "chart": 3}) + "\n"


def quote(t, bid):
    return json.dumps({"t": sc(t, "UTC"), "type": "quote", "kind": "BIDASK", "bid": bid, "ask": bid + 0.25,
                       "bq": 1, "aq": 1, "seq": next(_seq), "chart": 3, "sym": "ESZ25_FUT_CME"}) + "\n"


def px(events):
    return [round(e.f["px"] - BASE, 6) for e in events]


def test_out_of_order_lines_are_counted_per_stream_and_small_steps_clamped(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0 + 10, 1.0) + trade(T0, 2.0) + trade(T0 + 10 - TOLERANCE_S / 2, 3.0))
    tail = Tail(tmp_path)
    got = tail.poll()
    assert px(got) == [1.0, 3.0]                         # 2.0 is 10 s back: bad; 3.0 is clamped
    assert got[1].t == got[0].t
    assert tail.bad.by_file() == {str(f): {"out_of_order": 1}}
    append(f, trade(T0 + 5, 4.0) + trade(T0 + 11, 5.0))   # late against the stream's latest kept time,
    assert px(tail.poll()) == [5.0]                      # even in a later poll
    assert tail.bad.by_reason() == {"out_of_order": 2}
    # another stream is judged on its own: a quote 3 s before the last trade is not bad; it is
    # stamped with the latest time emitted, as are depth lines (their bar's start time)
    (tmp_path / "chart_3_quote_20251120.jsonl").write_text(quote(T0 + 8, 4999.0))
    (tmp_path / "chart_3_depth_20251120.jsonl").write_text(depth(NY_T, 5000.0) + depth(NY_T, 5000.25))
    got = tail.poll()
    assert sorted(e.type for e in got) == ["depth", "depth", "quote"]
    assert {round(e.t - T0, 1) for e in got} == {11.0}
    assert tail.bad.by_reason() == {"out_of_order": 2}


def test_a_unified_file_is_judged_stream_by_stream(tmp_path):
    f = tmp_path / "mia_unified_20251120.jsonl"
    # bar-stamped basedata trailing the trades written before it is not out of order
    f.write_text(trade(T0 + 30, 1.0) + bar(T0, 1, 5000.0) + depth(NY_T, 5000.0))
    tail = Tail(tmp_path)
    got = tail.poll()
    assert [e.type for e in got] == ["trade", "basedata", "depth"]
    assert tail.bad.total == 0
    append(f, trade(T0 + 20, 2.0) + bar(T0, 1, 5000.5) + trade(T0 + 31, 3.0))
    got = tail.poll()
    assert [(e.type, e.f.get("px", e.f.get("c"))) for e in got] == [("basedata", 5000.5), ("trade", BASE + 3.0)]
    assert tail.bad.by_file() == {str(f): {"out_of_order": 1}}


def test_truncated_then_rewritten_longer_between_polls_is_read_from_its_start(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0, 1.0))
    tail = Tail(tmp_path)
    assert px(tail.poll()) == [1.0]
    inode = os.stat(f).st_ino
    with open(f, "r+") as fh:                            # in place: the same inode, longer than before
        fh.truncate(0)
        fh.write(trade(T0 + 1, 2.0) + trade(T0 + 2, 3.0))
    assert os.stat(f).st_ino == inode
    assert px(tail.poll()) == [2.0, 3.0]
    assert tail.bad.total == 0


def test_rewritten_in_place_behind_the_offset_is_read_again(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    head = "".join(trade(T0 + k, 1.0 + k / 10) for k in range(4))   # more than the head fingerprint
    f.write_text(head + trade(T0 + 4, 2.0))
    tail = Tail(tmp_path)
    assert len(tail.poll()) == 5
    with open(f, "r+") as fh:                            # same head, other bytes just before the offset
        fh.truncate(0)
        fh.write(head + trade(T0 + 4, 2.5) + trade(T0 + 5, 4.0))
    # read again from its start: the head's lines (their seqs) were seen, the others are new
    assert px(tail.poll()) == [2.5, 4.0]
    assert tail.bad.by_reason() == {"duplicate": 4}
    st = os.stat(f)
    first = f.read_text().splitlines(keepends=True)[0]
    other = first.replace('"px": 5001.0', '"px": 5005.0').replace('"seq": ', '"seq": 9').replace('"tt": 2', '"tt":2')
    assert len(other) == len(first) and other != first
    with open(f, "r+") as fh:                            # same size, same inode, other first line
        fh.write(other)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))   # a later write, whatever the fs clock
    assert os.stat(f).st_size == st.st_size
    assert px(tail.poll()) == [5.0]                      # read again from its start: the rest was seen
    assert tail.bad.by_reason() == {"duplicate": 4 + 5}
    append(f, trade(T0 + 6, 6.0))                        # appended as usual: only the new line
    assert px(tail.poll()) == [6.0]


def test_a_folder_of_day_folders_and_rotation_to_a_new_day_folder(tmp_path):
    d1 = tmp_path / "20251120"
    d1.mkdir()
    f1 = d1 / "chart_3_trade_20251120.jsonl"
    f1.write_text(trade(T0, 1.0))
    tail = Tail(tmp_path)
    assert px(tail.poll()) == [1.0]
    append(f1, trade(T0 + 1, 2.0))
    assert px(tail.poll()) == [2.0]
    d2 = tmp_path / "20251121"                          # rotation: a new day folder, no restart
    d2.mkdir()
    (d2 / "chart_3_trade_20251121.jsonl").write_text(trade(T0 + 86400, 3.0))
    assert px(tail.poll()) == [3.0]
    assert tail.poll() == [] and tail.bad.total == 0


def test_a_single_file_can_be_tailed(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0, 1.0))
    (tmp_path / "chart_3_trade_20251121.jsonl").write_text(trade(T0 + 86400, 9.0))
    tail = Tail(f)
    assert px(tail.poll()) == [1.0]
    append(f, trade(T0 + 1, 2.0))
    assert px(tail.poll()) == [2.0]


def test_unified_only_day_is_read_and_ignored_beside_per_chart_files(tmp_path):
    (tmp_path / "mia_unified_20251120.jsonl").write_text(trade(T0, 1.0))
    (tmp_path / "mia_unified_20251121.jsonl").write_text(trade(T0 + 86400, 8.0))
    (tmp_path / "chart_3_trade_20251121.jsonl").write_text(trade(T0 + 86400, 2.0))
    tail = Tail(tmp_path)
    assert px(tail.poll()) == [1.0, 2.0]
    append(tmp_path / "mia_unified_20251120.jsonl", trade(T0 + 1, 1.5))
    append(tmp_path / "mia_unified_20251121.jsonl", trade(T0 + 86401, 8.5))
    assert px(tail.poll()) == [1.5]
    # per-chart files that appear after a day was read from its unified file: the unified file
    # holds the same lines, so the day stays on it (never read twice)
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 1.0) + trade(T0 + 1, 1.5))
    assert tail.poll() == []
    assert px(Tail(tmp_path, unified=False).poll()) == [1.0, 1.5, 2.0]


def test_missing_folder_is_reported_once_and_watched_until_it_appears(tmp_path):
    day = tmp_path / "20251120"
    tail = Tail(day)
    assert tail.poll() == [] and tail.poll() == [] and tail.poll() == []
    assert len(tail.warnings) == 1 and str(day) in tail.warnings[0] and "no such folder" in tail.warnings[0]
    assert tail.bad.total == 0
    day.mkdir()
    (day / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 1.0))
    assert px(tail.poll()) == [1.0]
    assert len(tail.warnings) == 1
    shutil.rmtree(day)                                   # gone again: reported again, once
    assert tail.poll() == [] and tail.poll() == []
    assert len(tail.warnings) == 2


def test_first_poll_of_a_finished_folder_equals_its_replay(tmp_path):
    d1, d2, d3 = (tmp_path / d for d in ("20251120", "20251121", "20251122"))
    for d in (d1, d2, d3):
        d.mkdir()
    one = 86400
    (d1 / "chart_3_trade_20251120.jsonl").write_text(
        trade(T0, 1.0) + trade(T0 + 20, 2.0) + trade(T0 + 5, 3.0) + trade(T0 + 19, 4.0) + "garbage\n")
    (d1 / "chart_3_basedata_20251120.jsonl").write_text(bar(T0, 1, 5000.0) + bar(T0 + 60, 2, 5001.0))
    (d1 / "chart_3_depth_20251120.jsonl").write_text(depth(NY_T, 5000.0) + depth(NY_T, 4999.75))
    (d1 / "mia_unified_20251120.jsonl").write_text(trade(T0, 99.0))          # ignored: per-chart files
    (d2 / "mia_unified_20251121.jsonl").write_text(
        trade(T0 + one + 30, 5.0) + bar(T0 + one, 1, 5002.0) + trade(T0 + one + 10, 6.0) + trade(T0 + one + 31, 7.0))
    (d3 / "chart_3_trade_20251122.jsonl").write_text(trade(T0 + 2 * one, 8.0))
    (d3 / "chart_3_quote_20251122.jsonl").write_text(quote(T0 + 2 * one - 1, 4999.0) + quote(T0 + 2 * one + 1, 5000.0))
    bad = BadLines()
    want = list(replay([tmp_path], bad=bad))
    tail = Tail(tmp_path)
    assert tail.poll() == want
    assert tail.bad.by_file() == bad.by_file()
    assert bad.by_reason() == {"invalid_json": 1, "out_of_order": 2}


def test_a_unified_file_beside_per_chart_files_gives_the_streams_they_lack_for_good(tmp_path):
    """Per stream: a stream first read from the unified file stays on it, one a per-chart file
    holds is read from that file only; nothing is read twice, nothing dropped."""
    uni = tmp_path / "mia_unified_20251120.jsonl"
    uni.write_text(trade(T0, 1.0) + bar(T0, 1, 5000.0))
    tail = Tail(tmp_path)
    assert [e.type for e in tail.poll()] == ["trade", "basedata"]
    # a per-chart file of a stream the unified file gave: its lines are the same, not read again
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 1.0) + trade(T0 + 1, 2.0))
    append(uni, trade(T0 + 1, 2.0))
    assert px(tail.poll()) == [2.0]
    # a per-chart file of a stream the unified file never had: read from it, the unified copy skipped
    (tmp_path / "chart_3_quote_20251120.jsonl").write_text(quote(T0 + 2, 4999.0))
    append(uni, quote(T0 + 2, 4999.0) + trade(T0 + 3, 3.0))
    got = tail.poll()
    assert [e.type for e in got] == ["quote", "trade"] and tail.bad.total == 0
