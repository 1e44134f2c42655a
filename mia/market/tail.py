"""Follow a Sierra Chart day folder live, as the dumpers append lines.

``Tail.poll()`` reads whatever complete lines are new in every matching file and returns their
events (ordered by time within the poll); a half-written last line stays buffered until its
newline arrives. Each poll also looks for new files, so a new day's files are picked up at
rotation without a restart. A file that shrank (truncated) or was replaced (another inode) is
read again from its start; a file that disappeared is forgotten. ``follow()`` polls with a sleep
in between: no busy loop. Bad lines are counted in ``bad`` like a replay's.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mia.market.events import Event
from mia.market.sierra import BadLine, BadLines, file_kind, parse_line


@dataclass
class _Cursor:
    inode: int
    offset: int = 0
    partial: bytes = b""
    chart: int | None = None
    typ: str | None = None


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
                cur = self._files[name] = _Cursor(st.st_ino, 0, b"", chart, typ)
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
            for raw in lines:
                if not raw.strip():
                    continue
                try:
                    events.append(parse_line(raw, cur.typ, cur.chart, self.zones))
                except BadLine as exc:
                    self.bad.add(name, exc.reason)
        for gone in set(self._files) - seen:
            del self._files[gone]
        events.sort(key=lambda e: e.t)
        return events

    def follow(self, interval: float = 0.25, stop=lambda: False) -> Iterator[Event]:
        """Events as they arrive, forever (or until ``stop()`` is true), sleeping between polls."""
        while not stop():
            batch = self.poll()
            yield from batch
            if not batch:
                time.sleep(interval)
