"""Benchmark: live tail latency, from a line appended to a watched file to the feature engine.

A writer thread appends one trade line at a time to a day folder's trade file (at random gaps
of ``--gap-ms``, so that a write never lines up with a poll); the reader follows the folder and
hands every event to a ``FeatureEngine``. The latency of a line is the time from just after its
write (``flush`` returned) to just after ``FeatureEngine.update`` returned for it.

Measured in the same run:
- ``tail``: ``Tail.follow`` as mia runs it (woken by the system's file notifications,
  ``mia.market.watch``; at least one poll every 0.5 s): ``tail_p50_ms``, ``tail_p99_ms``;
- ``feed``: the supervisor's ``SierraFeed`` (the same waiting, through asyncio): ``feed_p50_ms``;
- ``poll``: the polling baseline, ``Tail.follow`` sleeping 0.5 s between polls (what it did
  before): ``poll_p50_ms``, ``poll_p99_ms``.
Prints a table; ``--json`` prints one JSON object with those keys and the load average.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from mia.features import FeatureEngine
from mia.market.sctime import epoch_to_sc
from mia.market.tail import Tail
from mia.market.watch import FolderWatch

T0 = 1763649000.0          # 2025-11-20 14:30 UTC


def _line(k: int) -> bytes:
    return json.dumps({"t": epoch_to_sc(T0 + k * 0.01, "UTC"), "sym": "ESZ25_FUT_CME", "type": "trade", "chart": 3,
                       "side": "BUY", "px": 5000.0 + (k % 8) * 0.25, "vol": 1, "seq": k + 1}).encode() + b"\n"


class Writer(threading.Thread):
    """Appends ``n`` lines to ``path`` at random gaps; ``sent[k]``: the time line k was written."""

    def __init__(self, path: Path, n: int, gap_ms: float, start_k: int):
        super().__init__(daemon=True)
        self.path, self.n, self.gap, self.k0 = path, n, gap_ms / 1000, start_k
        self.sent: dict[int, float] = {}
        self.go = threading.Event()

    def run(self) -> None:
        self.go.wait()
        rng = random.Random(7)
        with open(self.path, "ab", buffering=0) as fh:
            for k in range(self.k0, self.k0 + self.n):
                time.sleep(self.gap * (0.5 + rng.random()))
                fh.write(_line(k))
                self.sent[k] = time.perf_counter()


def _k(ev) -> int:
    return int(ev.f["seq"]) - 1


def measure_tail(folder: Path, path: Path, n: int, gap_ms: float, k0: int, polling: bool) -> list[float]:
    writer = Writer(path, n, gap_ms, k0)
    eng = FeatureEngine()
    tail = Tail(folder)
    tail.poll()                                            # the file as it is: read, not timed
    got: list[float] = []
    deadline = time.monotonic() + n * gap_ms / 1000 * 2 + 30

    def stop() -> bool:
        return len(got) >= n or time.monotonic() > deadline

    writer.start()
    writer.go.set()
    for ev in tail.follow(0.5, stop=stop, sleep=time.sleep if polling else None):
        eng.update(ev)
        now = time.perf_counter()
        got.append(now - writer.sent[_k(ev)])
    writer.join()
    return got


def measure_feed(folder: Path, path: Path, n: int, gap_ms: float, k0: int) -> list[float]:
    from mia.runtime.feeds import SierraFeed

    writer = Writer(path, n, gap_ms, k0)
    eng = FeatureEngine()
    got: list[float] = []

    async def go() -> None:
        feed = SierraFeed(str(folder), poll_s=0.5)
        items = feed.items()
        async for item in items:
            if item[0] == "warm_events":
                writer.start()
                writer.go.set()
                continue
            for ev in item[1]:
                eng.update(ev)
                got.append(time.perf_counter() - writer.sent[_k(ev)])
            if len(got) >= n:
                await items.aclose()
                return

    asyncio.run(asyncio.wait_for(go(), n * gap_ms / 1000 * 2 + 30))
    writer.join()
    return got


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=300, help="lines appended for the watched tail and the feed")
    ap.add_argument("--poll-lines", type=int, default=20, help="lines appended for the polling baseline")
    ap.add_argument("--gap-ms", type=float, default=20.0, help="mean gap between two appends")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "20251120"
        folder.mkdir()
        path = folder / "chart_3_trade_20251120.jsonl"
        path.write_bytes(_line(0))
        with FolderWatch(folder) as w:
            w.wait(0.01)
            notified = w.watching
        tail = measure_tail(folder, path, args.lines, args.gap_ms, 1, polling=False)
        feed = measure_feed(folder, path, args.lines, args.gap_ms, 1 + args.lines)
        poll = measure_tail(folder, path, args.poll_lines, 300.0, 1 + 2 * args.lines, polling=True)
    load1 = os.getloadavg()
    out = {"tail_p50_ms": round(pct(tail, 0.5), 2), "tail_p99_ms": round(pct(tail, 0.99), 2),
           "tail_max_ms": round(max(tail) * 1000, 2), "tail_mean_ms": round(statistics.mean(tail) * 1000, 2),
           "feed_p50_ms": round(pct(feed, 0.5), 2), "feed_p99_ms": round(pct(feed, 0.99), 2),
           "poll_p50_ms": round(pct(poll, 0.5), 1), "poll_p99_ms": round(pct(poll, 0.99), 1),
           "lines": len(tail), "poll_lines": len(poll), "notifications": notified,
           "loadavg_before": [round(x, 2) for x in load0], "loadavg_after": [round(x, 2) for x in load1]}
    ok = len(tail) == args.lines and len(feed) == args.lines and len(poll) == args.poll_lines
    if args.json:
        print(json.dumps(out))
        return 0 if ok else 1
    print(f"a line appended -> FeatureEngine.update returned ({len(tail)} lines; file notifications "
          f"{'on' if notified else 'OFF: polling'}):")
    print(f"  Tail.follow (notified):    p50 {out['tail_p50_ms']:.2f} ms, p99 {out['tail_p99_ms']:.2f} ms, "
          f"max {out['tail_max_ms']:.2f} ms")
    print(f"  SierraFeed (supervisor):   p50 {out['feed_p50_ms']:.2f} ms, p99 {out['feed_p99_ms']:.2f} ms")
    print(f"  polling every 0.5 s (old): p50 {out['poll_p50_ms']:.1f} ms, p99 {out['poll_p99_ms']:.1f} ms")
    print(f"load average {out['loadavg_before']} before, {out['loadavg_after']} after")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
