"""The live tail wakes up when a file changes (file notifications), not on a 0.5 s poll; where
notifications cannot be had it still polls. The waits here are long on purpose (minutes): a
test passes fast only if the wake-up comes from the change, and never depends on how fast."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from mia.market import watch as watch_mod
from mia.market.tail import Tail
from mia.market.watch import FolderWatch
from sierra_lines import T0, trade

#: a wait far longer than any test: reaching it means no notification came
LONG = 300.0


def append_later(path, text, delay=0.05):
    def run():
        time.sleep(delay)
        with open(path, "a") as fh:
            fh.write(text)
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def test_a_wait_ends_with_the_write_not_the_timeout(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0, 5000.0))
    with FolderWatch(tmp_path) as w:
        assert w.wait(0.01) in (False, True) and w.watching
        th = append_later(f, trade(T0 + 1, 5000.25))
        assert w.wait(LONG) is True                     # woken by the append
        th.join()
        assert w.wait(0.05) is False                    # nothing since: the timeout


def test_a_new_day_folder_wakes_the_wait(tmp_path):
    (tmp_path / "20251120").mkdir()
    with FolderWatch(tmp_path) as w:
        w.wait(0.01)
        day = tmp_path / "20251121"
        th = threading.Thread(target=lambda: (time.sleep(0.05), day.mkdir(),
                                              (day / "chart_3_trade_20251121.jsonl").write_text("x\n")))
        th.start()
        assert w.wait(LONG) is True
        th.join()


def test_follow_yields_an_appended_line_without_waiting_for_the_poll(tmp_path):
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0, 5000.0))
    tail = Tail(tmp_path)
    seen, started = [], time.monotonic()
    th = None
    for ev in tail.follow(interval=LONG, stop=lambda: len(seen) >= 2):
        seen.append(ev.f["px"])
        if len(seen) == 1:
            th = append_later(f, trade(T0 + 1, 5000.25))
    th.join()
    assert seen == [5000.0, 5000.25]
    assert time.monotonic() - started < LONG            # the append woke it, not the poll


def test_without_notifications_follow_still_polls(tmp_path, monkeypatch):
    """A file system that gives no notifications (here: watchfiles cannot start): the tail
    falls back to a poll every interval and loses nothing."""
    import watchfiles._rust_notify as rn

    def broken(*a, **k):
        raise OSError("no inotify here")

    monkeypatch.setattr(rn, "RustNotify", broken)
    f = tmp_path / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0, 5000.0))
    tail = Tail(tmp_path)
    seen = []
    for ev in tail.follow(interval=0.05, stop=lambda: len(seen) >= 2):
        seen.append(ev.f["px"])
        if len(seen) == 1:
            append_later(f, trade(T0 + 1, 5000.25)).join()
    assert seen == [5000.0, 5000.25]
    with FolderWatch(tmp_path) as w:
        assert w.wait(0.01) is False and not w.watching


def test_a_folder_that_appears_later_is_watched_then(tmp_path, monkeypatch):
    monkeypatch.setattr(watch_mod, "RETRY_S", 0.0)
    root = tmp_path / "sierra"
    with FolderWatch(root) as w:
        assert w.wait(0.01) is False and not w.watching         # not there: a plain wait
        root.mkdir()
        w.wait(0.01)
        assert w.watching
        th = append_later(root / "chart_3_trade_20251120.jsonl", trade(T0, 5000.0))
        assert w.wait(LONG) is True
        th.join()


def test_a_stop_ends_the_wait(tmp_path):
    stop = threading.Event()
    with FolderWatch(tmp_path) as w:
        w.wait(0.01)
        threading.Timer(0.05, stop.set).start()
        assert w.wait(LONG, stop) is False


def test_the_supervisor_feed_wakes_on_an_append(tmp_path):
    from mia.runtime.feeds import SierraFeed

    day = tmp_path / "20251120"
    day.mkdir()
    f = day / "chart_3_trade_20251120.jsonl"
    f.write_text(trade(T0, 5000.0))

    async def go():
        feed = SierraFeed(str(tmp_path), poll_s=LONG)
        items = feed.items()
        first = await items.__anext__()
        assert first[0] == "warm_events" and [e.f["px"] for e in first[1]] == [5000.0]
        th = append_later(f, trade(T0 + 1, 5000.25))
        item = await asyncio.wait_for(items.__anext__(), LONG / 2)
        th.join()
        await items.aclose()
        return item

    item = asyncio.run(go())
    assert item[0] == "events" and [e.f["px"] for e in item[1]] == [5000.25]


@pytest.mark.parametrize("interval", [0.2])
def test_a_given_sleep_is_plain_polling(tmp_path, interval):
    (tmp_path / "chart_3_trade_20251120.jsonl").write_text(trade(T0, 5000.0))
    calls = []
    tail = Tail(tmp_path)
    out = list(tail.follow(interval=interval, stop=lambda: len(calls) >= 2, sleep=calls.append))
    assert len(out) == 1 and calls == [interval, interval]
