"""Follow Sierra Chart JSONL data live, as the dumpers append lines.

``Tail(path)`` takes what ``replay`` takes (a day folder, a folder of day folders, a file) and
``poll()`` returns the events of the complete lines new since the last poll; a half-written line
waits for its newline. Every poll rescans, so a new day's files or day folder are picked up
without a restart. Lines are judged as in a replay (``judge.StreamOrder``: out of order by more
than ``TOLERANCE_S`` in their (chart, type) stream is bad, a smaller step back is clamped, depth
is exempt, duplicates, bar indexes and the price band as in a replay; a line far ahead of its
per-chart file waits for the next line to confirm it, or for the wall clock or the other files
to reach its time). A day's unified file is read for the streams no per-chart file holds, per
stream and for good: a stream first read from the unified file stays on it (a per-chart file of
it that appears later holds the same lines), one read from a per-chart file stays there. Files
that look like data and are not read, or two files for one stream, are reported once in
``warnings``. A poll is merged like a replay (``order.merge_lists``) and never
stamps an event before one already returned (depth, a lagging file: the latest time). A file
replaced (new inode) or rewritten (shrunk, or other bytes at its head or just before the read
offset) is read again from its start (a trade or quote seq it had is still a duplicate: a
restarted dumper's rewrite is not counted twice); a vanished one is forgotten. A missing folder is reported
once in ``warnings`` and polled until it appears. ``follow()`` polls whenever a file under the
folder changes (``watch.FolderWatch``: the system's file notifications; a line appended reaches
the caller within milliseconds), and at least every ``interval`` seconds (the fallback where
notifications do not come).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mia.market.days import DayFiles, scan_days
from mia.market.events import Event
from mia.market.judge import StreamOrder, price_band
from mia.market.order import TOLERANCE_S, merge_lists
from mia.market.sierra import BadLines, LineParser, file_kind
from mia.market.unified import cover_table, drop_covered, uncovered
from mia.market.watch import FolderWatch

log = logging.getLogger(__name__)

#: bytes kept of a file's head and of what lies just before the read offset, to recognise it
FINGERPRINT = 256


@dataclass
class _Cursor:
    inode: int
    parser: LineParser
    #: (chart, type) of a per-chart file (one stream); None for a unified file (stream per line)
    stream: tuple[int, str] | None
    offset: int = 0
    partial: bytes = b""
    mtime_ns: int = -1
    head: bytes = b""                  # bytes [0, min(FINGERPRINT, offset))
    behind: bytes = b""                # bytes [max(0, offset - FINGERPRINT), offset)
    order: StreamOrder | None = None            # the order rule's state, across polls

    def same_file(self, fh) -> bool:
        """True when the open file still holds, at the head and just before ``offset``, the
        bytes already read from it (else it was rewritten in place)."""
        if self.offset == 0:
            return True
        fh.seek(0)
        if fh.read(len(self.head)) != self.head:
            return False
        fh.seek(self.offset - len(self.behind))
        return fh.read(len(self.behind)) == self.behind

    def advance(self, data: bytes) -> None:
        self.offset += len(data)
        if len(self.head) < FINGERPRINT:
            self.head = (self.head + data)[:FINGERPRINT]
        self.behind = (self.behind + data)[-FINGERPRINT:]

    def judge(self, events: list[Event], bad: Callable[[str], None], band: float) -> list[Event]:
        """Replay's rules (``judge.StreamOrder``), their state kept across polls."""
        if self.order is None:
            self.order = StreamOrder(self.stream, band)
        return self.order.judge(events, bad)


@dataclass
class Tail:
    folder: Path
    zones: dict | None = None
    bad: BadLines = field(default_factory=BadLines)
    #: None: a day's unified file is read only when that day has no per-chart files (replay's
    #: rule); True: read unified files as well as per-chart files; False: never read them
    unified: bool | None = None
    #: problems with the folder itself (missing, unreadable), each reported once, oldest first
    warnings: list[str] = field(default_factory=list)
    #: the wall clock (UTC epoch seconds): a line far ahead of its file is let through once it is
    #: not in the future (a quiet market), else it waits for its file's next line
    now: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self._files: dict[str, _Cursor] = {}
        self._owner: dict[str, dict] = {}     # day -> {(chart, type): "chart" | "unified"}, once chosen
        self._clock = float("-inf")
        self._missing = False
        self._band = price_band()
        self._noted: set[str] = set()

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning(message)

    def _scan(self) -> dict[str, DayFiles]:
        """The day folders' files now (``days.scan_days``, never raising); a missing folder is
        reported once, and again after it came back and went."""
        root = self.folder
        try:
            exists = root.is_file() or root.is_dir()
        except OSError:
            exists = False
        if not exists:
            if not self._missing:
                self._missing = True
                self._warn(f"{root}: no such folder; still watching for it")
            return {}
        if self._missing:
            self._missing = False
            log.info("%s: the folder appeared", root)
        notes: list[str] = []
        found = scan_days([root], strict=False, notes=notes)
        for message in notes:
            if message not in self._noted:
                self._noted.add(message)
                self._warn(message)
        return found

    def _pick(self, day: str, files: DayFiles) -> list[tuple[Path, frozenset]]:
        """The files of ``day`` to read now, each with the streams it is not read for."""
        none: frozenset = frozenset()
        if self.unified is True:
            return [(p, none) for p in files.chart + files.unified]
        if self.unified is False:
            return [(p, none) for p in files.chart]
        owner = self._owner.setdefault(day, {})
        out = []
        for p in files.chart:
            chart, typ, _ = file_kind(p)
            if owner.setdefault((chart, typ), "chart") == "chart":
                out.append((p, none))
        out += [(p, frozenset(k for k, v in owner.items() if v == "chart")) for p in files.unified]
        return out

    def _read(self, path: Path, skip: frozenset = frozenset()) -> list[Event]:
        """The judged events of the complete lines new in ``path`` since the last poll (a unified
        file: not those of the streams in ``skip``)."""
        name = str(path)
        cur = self._files.get(name)
        try:
            st = os.stat(path)
        except OSError:
            return []
        if (cur is not None and cur.inode == st.st_ino and st.st_size == cur.offset
                and st.st_mtime_ns == cur.mtime_ns):
            return []                                  # unchanged: not even opened
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                if (cur is None or cur.inode != st.st_ino or st.st_size < cur.offset
                        or not cur.same_file(fh)):
                    chart, typ, day = file_kind(path)
                    before = cur.order if cur is not None else None
                    cur = self._files[name] = _Cursor(st.st_ino, LineParser(typ, chart, self.zones, day),
                                                      None if typ is None else (chart, typ))
                    if before is not None:       # read again from its start: seqs seen stay seen
                        cur.order = StreamOrder(cur.stream, self._band, before=before)
                cur.mtime_ns = st.st_mtime_ns
                if st.st_size == cur.offset:
                    return []
                fh.seek(cur.offset)
                data = fh.read()
        except OSError:
            return []
        cur.advance(data)
        buf = cur.partial + data
        cut = buf.rfind(b"\n") + 1
        cur.partial = buf[cut:]            # b"" when the data ended with a newline
        skip = skip if cur.stream is None else frozenset()
        lines = uncovered(buf[:cut], cover_table(skip)) if skip else buf[:cut].split(b"\n")[:-1]

        def on_bad(reason: str) -> None:
            self.bad.add(name, reason)

        return cur.judge(drop_covered(cur.parser.batch(lines, on_bad), skip), on_bad, self._band)

    def poll(self) -> list[Event]:
        found = self._scan()
        seen: set[str] = set()
        days: list[list[list[Event]]] = []
        for day in sorted(found):
            streams = []
            owner = self._owner.setdefault(day, {}) if self.unified is None else None
            for path, skip in self._pick(day, found[day]):
                seen.add(str(path))
                evs = self._read(path, skip)
                cur = self._files.get(str(path))
                if cur is not None and cur.order is not None:
                    # a jump ahead that is not in the future: a real gap
                    evs = evs + cur.order.release_if(max(self._clock, self.now()) + TOLERANCE_S)
                if owner is not None and cur is not None and cur.stream is None:
                    for ev in evs:                 # the unified file's streams stay on it
                        owner.setdefault((ev.chart, ev.type), "unified")
                if evs:
                    streams.append(evs)
            days.append(streams)
        for gone in set(self._files) - seen:
            del self._files[gone]
        for day in set(self._owner) - set(found):
            del self._owner[day]
        events: list[Event] = []
        clock = self._clock
        for streams in days:                       # stamped: depth (bar-stamped), a lagging file
            merged, clock = merge_lists(streams, clock)
            events.extend(merged)
        self._clock = clock
        return events

    def follow(self, interval: float = 0.5, stop: Callable[[], bool] = lambda: False,
               sleep: Callable[[float], None] | None = None) -> Iterator[Event]:
        """Events as they arrive, forever (or until ``stop()`` is true): a poll, then a wait until
        a file under the folder changes or ``interval`` seconds pass, and again. ``sleep``, when
        given, is called instead of the wait (``sleep(interval)`` after every poll: plain polling)."""
        watch = FolderWatch(self.folder) if sleep is None else None
        try:
            while not stop():
                yield from self.poll()
                if stop():
                    break
                if watch is None:
                    sleep(interval)
                else:
                    watch.wait(interval)
        finally:
            if watch is not None:
                watch.close()
