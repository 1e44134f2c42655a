"""Market data for the supervisor: the feeds that put events on its queue.

A feed is an async iterator of items for the consumer:
- ``("warm", block)`` / ``("warm_events", events)``: data from before the session's place in
  the stream (a restart's catch-up, or a live feed's files written before it started): it
  builds the features and is not traded;
- ``("block", block, position)`` / ``("events", events, position)``: data to trade, with the
  feed's position after it (what the journal keeps, so that a restart resumes after it);
- ``("end",)``: the data ended (a replay's last line).

``ReplayFeed`` reads day folders as columnar blocks (``mia.market.columnar``, the backtest's
reader) in a worker thread, at ``speed`` x market pace (0: as fast as the consumer takes them;
an idle gap longer than ``MAX_IDLE_S`` of wall time, such as a night between two days, is
skipped). Its position is the number of rows taken; ``skip`` rows are handed out as warm-up.
``SierraFeed`` follows the dumpers' folder live (``mia.market.tail``): the files' content at
start is warm-up, then every poll's new lines are traded. It polls as ``Tail.follow`` does:
when a file under the folder changes (``mia.market.watch``: the system's file notifications,
a few milliseconds after a dumper's write), and at least every ``poll_s`` seconds.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from mia.features.engine import HANDLED_TYPES
from mia.market.columnar.blocks import blocks
from mia.market.sierra import BadLines

#: a pause in the data longer than this (wall seconds at the replay's speed) is skipped
MAX_IDLE_S = 2.0
#: longest sleep between two checks of the pace (keeps the feed responsive to a stop)
TICK_S = 0.05


class ReplayFeed:
    live = False

    def __init__(self, paths: list[str], speed: float = 0.0, zones: dict | None = None, skip: int = 0,
                 cache=None, clock=time.monotonic, sleep=asyncio.sleep):
        self.paths = [str(Path(p).resolve()) for p in paths]
        self.speed = float(speed)
        self.zones = zones
        self.skip = int(skip)
        self.cache = cache
        self.bad = BadLines()
        self.clock, self.sleep = clock, sleep
        self.position = 0

    @property
    def identity(self) -> str:
        return "replay:" + "|".join(self.paths)

    async def items(self) -> AsyncIterator[tuple]:
        it = iter(blocks(self.paths, zones=self.zones, bad=self.bad, cache=self.cache, wanted_types=HANDLED_TYPES))
        t0 = w0 = None
        while True:
            block = await asyncio.to_thread(next, it, None)
            if block is None:
                break
            n = len(block.t)
            i = 0
            if self.position < self.skip:
                k = min(n, self.skip - self.position)
                yield ("warm", block.rows(0, k))
                self.position += k
                i = k
            if self.speed <= 0:
                if i < n:
                    self.position += n - i
                    yield ("block", block.rows(i, n), self.position)
                continue
            t = block.t
            while i < n:
                now = self.clock()
                if t0 is None:
                    t0, w0 = float(t[i]), now
                target = t0 + (now - w0) * self.speed
                j = i + int(np.searchsorted(t[i:], target, side="right"))
                if j > i:
                    self.position += j - i
                    yield ("block", block.rows(i, j), self.position)
                    i = j
                    continue
                wait = (float(t[i]) - target) / self.speed
                if wait > MAX_IDLE_S:          # a night, a gap in the data: no need to wait it out
                    t0, w0 = float(t[i]), now
                    continue
                await self.sleep(min(wait, TICK_S))
        yield ("end",)


class SierraFeed:
    """Sierra Chart's dumper folder, followed live."""
    live = True

    def __init__(self, path: str, zones: dict | None = None, poll_s: float = 0.25, sleep=None):
        """``sleep``: given, awaited for ``poll_s`` between polls instead of waiting for a change."""
        from mia.market.tail import Tail

        self.path = str(Path(path).resolve())
        self.tail = Tail(Path(self.path), zones=zones)
        self.poll_s = poll_s
        self.sleep = sleep
        self.position = None

    @property
    def identity(self) -> str:
        return "sierra:" + self.path

    @property
    def bad(self) -> BadLines:
        return self.tail.bad

    async def _wait(self, watch) -> None:
        if watch is None:
            await self.sleep(self.poll_s)
            return
        stop = threading.Event()
        try:
            await asyncio.to_thread(watch.wait, self.poll_s, stop)
        finally:
            stop.set()                         # cancelled: the waiting thread returns at once

    async def items(self) -> AsyncIterator[tuple]:
        from mia.market.watch import FolderWatch

        watch = FolderWatch(self.path) if self.sleep is None else None
        try:
            first = await asyncio.to_thread(self.tail.poll)
            if first:
                yield ("warm_events", first)
            while True:
                await self._wait(watch)
                events = await asyncio.to_thread(self.tail.poll)
                if events:
                    yield ("events", events, None)
        finally:
            if watch is not None:
                watch.close()
