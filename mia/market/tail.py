"""Follow a Sierra Chart day folder live, as the dumpers append lines.

``Tail.poll()`` reads whatever complete lines are new in every matching file and returns their
events (ordered by time within the poll); a half-written last line stays buffered until its
newline arrives. Each poll also looks for new files, so a new day's files are picked up at
rotation without a restart. A file that shrank (truncated) or was replaced (another inode) is
read again from its start; a file that disappeared is forgotten. No event is stamped before
one already returned (``depth`` lines carry their bar's start: they get the latest time).
``follow()`` sleeps between polls: no busy loop. Bad lines are counted in ``bad`` as in a replay.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from functools import partial
from operator import attrgetter
from dataclasses import dataclass, field
from pathlib import Path

from mia.market.events import Event
from mia.market.sierra import BadLines, LineParser, file_kind

_time = attrgetter("t")


@dataclass
class _Cursor:
    inode: int
    offset: int = 0
    partial: bytes = b""
    parser: LineParser | None = None


@dataclass
class Tail:
    folder: Path
    zones: dict | None = None
    bad: BadLines = field(default_factory=BadLines)
    #: include the unified file as well as per-chart files (off: they hold the same lines)
    unified: bool = False

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self._files: dict[str, _Cursor] = {}
        self._clock = float("-inf")

    def _candidates(self) -> list[Path]:
        out = []
        try:
            entries = sorted(self.folder.iterdir())
        except OSError:
            return out
        for p in entries:
            chart, typ, day = file_kind(p)
            if day is not None and (typ is not None or self.unified):
                out.append(p)
        return out

    def poll(self) -> list[Event]:
        events: list[Event] = []
        seen = set()
        for path in self._candidates():
            name = str(path)
            seen.add(name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            cur = self._files.get(name)
            if cur is None or cur.inode != st.st_ino or st.st_size < cur.offset:
                chart, typ, _ = file_kind(path)
                cur = self._files[name] = _Cursor(st.st_ino, 0, b"", LineParser(typ, chart, self.zones))
            if st.st_size == cur.offset:
                continue
            try:
                with open(path, "rb") as fh:
                    fh.seek(cur.offset)
                    data = fh.read()
            except OSError:
                continue
            cur.offset += len(data)
            data = cur.partial + data
            lines = data.split(b"\n")
            cur.partial = lines.pop()          # b"" when the data ended with a newline
            events.extend(cur.parser.batch(lines, partial(self.bad.add, name)))
        for gone in set(self._files) - seen:
            del self._files[gone]
        events.sort(key=_time)
        clock = self._clock
        for k, ev in enumerate(events):
            if ev.t < clock:
                events[k] = ev._replace(t=clock)     # depth (bar-stamped) or late: never back in time
            else:
                clock = ev.t
        self._clock = clock
        return events

    def follow(self, interval: float = 0.5, stop=lambda: False) -> Iterator[Event]:
        """Events as they arrive, forever (or until ``stop()`` is true), sleeping ``interval``
        seconds after every poll: no busy loop, even while the files grow constantly."""
        while not stop():
            yield from self.poll()
            if stop():
                break
            time.sleep(interval)
